// Finding people: the search box widget every "find someone" field uses (the sidebar's, the new
// group's and the group settings' "Add a member"), and the sidebar's own, which opens the DM
// with whoever is picked.

import { describeError } from "./api.js?v=dev";
import { $, h, showAlert } from "./dom.js?v=dev";

/** How long typing pauses before a search goes out, so a name typed quickly costs one request. */
const SEARCH_DELAY_MS = 200;

/** A search box listing matching people as buttons; `label(user)` names each button, `pick(user)`
 * runs when one is chosen, and `exclude()` (asked afresh for every answer) names people not to
 * list. The person searching is never listed. Only the answer to the latest query is shown: an
 * earlier one arriving late would list people the box no longer asks for. */
export function userSearch({ api, store }, input, list, label, pick, exclude = () => new Set()) {
  let timer = null;
  let generation = 0;
  let shown = [];   // the people listed now
  const search = async (q) => {
    const mine = ++generation;
    try {
      const { users } = await api.searchUsers(q);
      if (mine !== generation) return null;
      const skip = exclude();
      shown = users.filter((user) => user.id !== store.me?.id && !skip.has(user.id));
      list.replaceChildren(...shown.map((user) => h("li", {},
        h("button", { type: "button", class: "user-result", "aria-label": user.email ? `${label(user)}, ${user.email}` : label(user),
          onclick: () => pick(user) },
        h("span", { class: "avatar", "aria-hidden": "true" }, initials(user.displayName)),
        h("span", { class: "who" },
          h("span", { class: "name" }, user.displayName),
          user.email ? h("span", { class: "email" }, user.email) : null),
        h("span", { class: `presence-dot${user.online ? " online" : ""}`, "aria-hidden": "true" })))));
      if (shown.length === 0) list.append(h("li", { class: "empty-hint", role: "status" }, "Nobody found."));
      return shown;
    } catch (error) {
      showAlert(`Search failed: ${describeError(error)}`);
      return null;
    }
  };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = null;
    const q = input.value.trim();
    if (!q) {
      generation += 1;
      shown = [];
      list.replaceChildren();
      return;
    }
    timer = setTimeout(() => { timer = null; search(q); }, SEARCH_DELAY_MS);
  });
  const buttons = () => [...list.querySelectorAll("button.user-result")];
  // Keyboard: Enter picks the first person found (searching at once if a search is still to go
  // out), Down arrow moves into the results, Escape clears; never submits a surrounding form.
  input.addEventListener("keydown", async (event) => {
    if (event.key === "Enter" && !event.isComposing) {
      event.preventDefault();
      const q = input.value.trim();
      if (!q) return;
      let found = shown;
      if (timer !== null) {
        clearTimeout(timer);
        timer = null;
        found = await search(q);
      }
      if (found?.length) pick(found[0]);
    } else if (event.key === "ArrowDown") {
      const first = buttons()[0];
      if (first) {
        event.preventDefault();
        first.focus();
      }
    } else if (event.key === "Escape" && input.value) {
      event.preventDefault();
      event.stopPropagation(); // inside a dialog: clears the search, does not close the dialog
      input.value = "";
      input.dispatchEvent(new Event("input"));
    }
  });
  list.addEventListener("keydown", (event) => {
    const all = buttons();
    const index = all.indexOf(event.target);
    if (index < 0) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const next = index + (event.key === "ArrowDown" ? 1 : -1);
      if (next < 0) input.focus();
      else all[Math.min(next, all.length - 1)].focus();
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      input.focus();
    }
  });
}

/** Up to two initials of a display name, for the round avatar beside it. */
export function initials(name) {
  const words = String(name ?? "").trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? [words[0], words[words.length - 1]] : words;
  return letters.map((word) => [...word][0]?.toUpperCase() ?? "").join("") || "?";
}

/** The sidebar's "Find people": picking someone opens (or creates) the DM with them, ready to type in. */
export class PeopleSearch {
  /** `open(conversationId)` opens a conversation (resolving once it is shown); `focusComposer()`
   * puts the cursor in the message box. */
  constructor({ api, store, open, focusComposer }) {
    userSearch({ api, store }, $("user-search"), $("user-results"), (user) => `Message ${user.displayName}`, async (user) => {
      try {
        const conversation = await api.createDM(user.id);
        store.upsertConversation(conversation);
        $("user-search").value = "";
        $("user-results").replaceChildren();
        await open(conversation.id);
        focusComposer();
      } catch (error) {
        showAlert(`Could not start the conversation: ${describeError(error)}`);
      }
    });
  }
}
