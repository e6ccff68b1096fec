// The sidebar's list of conversations: each entry shows who is online, the unread count, a call
// in progress and the last message. All of it also goes into the entry's accessible name, since a
// screen reader hears the button and not the dots and badges beside its title.

import { $, h } from "./dom.js?v=dev";
import { plainText } from "./format.js?v=dev";

export class ConversationList {
  /** `open(conversationId)` opens the conversation an entry stands for. */
  constructor({ store, open }) {
    this.store = store;
    this.open = open;
  }

  /** Redrawn whole on every change: the list is short, and its order (latest activity first)
   * moves with every message. */
  render() {
    const store = this.store;
    const items = store.orderedConversations().map((conversation) => {
      const title = store.title(conversation);
      const others = store.otherMembers(conversation);
      const online = others.some((m) => store.presence.get(m.user.id));
      const unread = conversation.unreadCount ?? 0;
      const inCall = conversation.call?.active;
      const last = conversation.lastMessage;
      const lastText = !last ? "No messages yet"
        : last.deletedAt ? "Message deleted"
          : last.kind === "system" ? plainText(last.content)
          : `${last.sender?.id === store.me?.id ? "You" : last.sender?.displayName}: ${plainText(last.content)}`;
      const label = [title, online ? (conversation.kind === "dm" ? "online" : "someone online") : null,
        inCall ? "call in progress" : null, unread ? `${unread} unread` : null, `last message: ${lastText}`].filter(Boolean).join(", ");
      return h("li", {},
        h("button", {
          type: "button", class: "conversation-item", "aria-label": label,
          "aria-current": conversation.id === store.activeId ? "true" : null,
          dataset: { conversationId: conversation.id },
          onclick: () => this.open(conversation.id),
        },
        h("span", { class: `presence-dot${online ? " online" : ""}`, "aria-hidden": "true" }),
        h("span", { class: "conversation-text" },
          h("span", { class: "conversation-title" }, title),
          h("span", { class: "conversation-last" }, lastText)),
        h("span", { class: "conversation-meta" },
          inCall ? h("span", { class: "call-mark", title: "Call in progress" }, "\u260E Call") : null,
          unread ? h("span", { class: "unread-badge" }, String(unread)) : null)));
    });
    $("conversation-list").replaceChildren(...items);
    if (items.length === 0) {
      $("conversation-list").append(h("li", { class: "empty-hint" }, "No conversations yet. Find someone above to start one."));
    }
  }

  /** The entry of a conversation, if the list shows it (where focus returns on leaving it). */
  itemFor(conversationId) {
    return document.querySelector(`#conversation-list button[data-conversation-id="${CSS.escape(conversationId)}"]`);
  }
}
