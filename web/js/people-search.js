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
  input.addEventListener("input", () => {
    clearTimeout(timer);
    const q = input.value.trim();
    if (!q) {
      list.replaceChildren();
      return;
    }
    timer = setTimeout(async () => {
      const mine = ++generation;
      try {
        const { users } = await api.searchUsers(q);
        if (mine !== generation) return;
        const skip = exclude();
        const found = users.filter((user) => user.id !== store.me?.id && !skip.has(user.id));
        list.replaceChildren(...found.map((user) => h("li", {},
          h("button", { type: "button", class: "user-result", "aria-label": label(user), onclick: () => pick(user) },
            h("span", { class: `presence-dot${user.online ? " online" : ""}`, "aria-hidden": "true" }),
            h("span", {}, user.displayName)))));
        if (found.length === 0) list.append(h("li", { class: "empty-hint" }, "Nobody found."));
      } catch (error) {
        showAlert(`Search failed: ${describeError(error)}`);
      }
    }, SEARCH_DELAY_MS);
  });
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
