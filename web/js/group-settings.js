// The two group dialogs: "New group" (a name and the people to start with) and the open group's
// settings (rename, add and remove members, leave). Managing controls show only to the group's
// owner and admins; the server enforces the same, this only spares the others a refusal.

import { describeError } from "./api.js?v=dev";
import { $, h, showAlert } from "./dom.js?v=dev";
import { userSearch } from "./people-search.js?v=dev";

export class NewGroupDialog {
  /** `open(conversationId)` opens the group once it is made. */
  constructor({ api, store, open }) {
    this.api = api;
    this.store = store;
    this.open = open;
    this.chosen = new Map(); // userId -> user, the people picked so far
    this.#bind();
  }

  #renderChosen() {
    $("group-chosen").replaceChildren(...[...this.chosen.values()].map((user) => h("li", {},
      h("span", {}, user.displayName),
      h("button", { type: "button", class: "small", "aria-label": `Remove ${user.displayName} from the new group`,
        onclick: () => { this.chosen.delete(user.id); this.#renderChosen(); } }, "Remove"))));
  }

  #bind() {
    const chosen = this.chosen;
    $("new-group-button").addEventListener("click", () => {
      chosen.clear();
      this.#renderChosen();
      $("group-title").value = "";
      $("group-member-search").value = "";
      $("group-member-results").replaceChildren();
      $("group-dialog").showModal();
      $("group-title").focus();
    });
    $("group-cancel").addEventListener("click", () => $("group-dialog").close());
    // Enter in the name goes on to adding people; it never creates a group of oneself alone.
    $("group-title").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.isComposing) {
        event.preventDefault();
        $("group-member-search").focus();
      }
    });
    userSearch(this, $("group-member-search"), $("group-member-results"), (user) => `Add ${user.displayName}`, (user) => {
      chosen.set(user.id, user);
      this.#renderChosen();
      $("group-member-search").value = "";
      $("group-member-results").replaceChildren();
      $("group-member-search").focus();
    });
    $("group-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const title = $("group-title").value.trim();
      if (!title) {
        showAlert("Give the group a name.", { timeoutMs: 5_000 });
        $("group-title").focus();
        return;
      }
      try {
        const conversation = await this.api.createGroup(title, [...chosen.keys()]);
        this.store.upsertConversation(conversation);
        $("group-dialog").close();
        await this.open(conversation.id);
      } catch (error) {
        showAlert(`Could not create the group: ${describeError(error)}`);
      }
    });
  }
}

/** The settings of the open group. While the dialog is open it follows the group: a member added
 * or removed from elsewhere shows at once. */
export class GroupSettingsDialog {
  /** `refreshConversation(id)` fetches a conversation afresh (its members after a removal);
   * `showEmpty()` closes the conversation view once one has left the group. */
  constructor({ api, store, calls, leaving = new Set(), refreshConversation, showEmpty }) {
    this.leaving = leaving;
    this.api = api;
    this.store = store;
    this.calls = calls;
    this.refreshConversation = refreshConversation;
    this.showEmpty = showEmpty;
    this.#bind();
  }

  #bind() {
    $("group-settings-button").addEventListener("click", () => {
      const conversation = this.store.conversations.get(this.store.activeId);
      if (!conversation) return;
      $("rename-input").value = conversation.title ?? "";
      disarm(leave, "Leave group");
      this.render();
      $("settings-dialog").showModal();
    });
    $("settings-close").addEventListener("click", () => $("settings-dialog").close());
    $("rename-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const id = this.store.activeId;
      try {
        this.store.upsertConversation(await this.api.rename(id, $("rename-input").value.trim()));
        showAlert("Group renamed.", { kind: "info", timeoutMs: 3_000 });
      } catch (error) {
        showAlert(`Could not rename the group: ${describeError(error)}`);
      }
    });
    userSearch(this, $("settings-member-search"), $("settings-member-results"), (user) => `Add ${user.displayName}`, async (user) => {
      const id = this.store.activeId;
      try {
        this.store.upsertConversation(await this.api.addMember(id, user.id));
        $("settings-member-search").value = "";
        $("settings-member-results").replaceChildren();
        this.render();
      } catch (error) {
        showAlert(`Could not add ${user.displayName}: ${describeError(error)}`);
      }
    }, () => new Set((this.store.conversations.get(this.store.activeId)?.members ?? []).map((m) => m.user.id)));
    const leave = $("leave-group");
    leave.addEventListener("click", async () => {
      const id = this.store.activeId;
      // Two steps: the first click asks, the second (within a few seconds) leaves.
      if (!armed(leave, "Confirm leaving the group", "Leave group")) return;
      this.leaving.add(id);
      try {
        await this.api.removeMember(id, this.store.me.id);
        $("settings-dialog").close();
        if (this.calls.conversationId === id) await this.calls.leave();
        this.store.removeConversation(id);
        this.showEmpty();
      } catch (error) {
        this.leaving.delete(id);
        showAlert(`Could not leave the group: ${describeError(error)}`);
      }
    });
    this.store.addEventListener("change", ({ detail }) => {
      if (detail.kind === "conversations" && detail.conversationId === this.store.activeId && $("settings-dialog").open) this.render();
    });
  }

  render() {
    const store = this.store;
    const conversation = store.conversations.get(store.activeId);
    if (!conversation) return;
    const myRole = store.myRole(conversation);
    const manager = myRole === "owner" || myRole === "admin";
    $("rename-form").hidden = !manager;
    $("settings-member-search").hidden = !manager;
    $("settings-member-search").previousElementSibling.hidden = !manager;
    $("settings-members").replaceChildren(...conversation.members.map((member) => {
      const isMe = member.user.id === store.me?.id;
      const removable = manager && !isMe && member.role !== "owner";
      return h("li", {},
        h("span", { class: `presence-dot${store.presence.get(member.user.id) ? " online" : ""}`, "aria-hidden": "true" }),
        h("span", { class: "member-name" }, isMe ? `${member.user.displayName} (you)` : member.user.displayName),
        h("span", { class: "member-role" }, member.role),
        removable ? h("button", { type: "button", class: "small", "aria-label": `Remove ${member.user.displayName} from the group`,
          onclick: async (event) => {
            const button = event.currentTarget;
            if (!armed(button, `Confirm removing ${member.user.displayName}`, "Remove", `Remove ${member.user.displayName} from the group`)) return;
            try {
              await this.api.removeMember(conversation.id, member.user.id);
              await this.refreshConversation(conversation.id);
            } catch (error) {
              showAlert(`Could not remove ${member.user.displayName}: ${describeError(error)}`);
            }
          } }, "Remove") : null);
    }));
  }
}

/** A button that acts on its second click: the first turns it into "Confirm …" (and focus stays
 * on it) for a few seconds. True when this click is the confirming one. */
function armed(button, confirmText, text, label = null) {
  if (button.dataset.armed) {
    disarm(button, text, label);
    return true;
  }
  button.dataset.armed = "1";
  button.classList.add("armed");
  button.textContent = confirmText;
  button.removeAttribute("aria-label");
  clearTimeout(button.disarmTimer);
  button.disarmTimer = setTimeout(() => disarm(button, text, label), 6_000);
  return false;
}

function disarm(button, text, label = null) {
  clearTimeout(button.disarmTimer);
  delete button.dataset.armed;
  button.classList.remove("armed");
  button.textContent = text;
  if (label) button.setAttribute("aria-label", label);
}
