// The sidebar's list of conversations: each entry shows who is online, the unread count, a call
// in progress and the last message. All of it also goes into the entry's accessible name, since a
// screen reader hears the button and not the dots and badges beside its title.

import { $, h } from "./dom.js?v=dev";
import { plainText } from "./format.js?v=dev";
import { attachmentSummary } from "./attachments.js?v=dev";

/** What a one-line preview of a message says: its text, or, for a message that is only files,
 * what they are (`files`: "photo.png", "3 files"). */
function previewParts(message) {
  const text = plainText(message?.content ?? "");
  if (text) return { text, files: null };
  const files = attachmentSummary((message?.attachments ?? []).filter((a) => a && a.id));
  return { text: "", files: files || null };
}

/** A message in one line of plain text, for notifications and accessible names: its text, or
 * its files after a paper clip ("\u{1F4CE} photo.png", "\u{1F4CE} 3 files"). */
export function messagePreview(message) {
  const { text, files } = previewParts(message);
  return files ? `\u{1F4CE} ${files}` : text;
}

const SVG = "http://www.w3.org/2000/svg";

/** The paper clip of the Attach files button, small, before the files of a preview (drawn, so it
 * shows without an emoji font). */
function clipIcon() {
  const svg = document.createElementNS(SVG, "svg");
  for (const [name, value] of Object.entries({ viewBox: "0 0 24 24", width: "12", height: "12", "aria-hidden": "true", focusable: "false", class: "preview-clip" })) {
    svg.setAttribute(name, value);
  }
  svg.style.verticalAlign = "-0.1em";
  svg.style.marginRight = "0.2em";
  const path = document.createElementNS(SVG, "path");
  for (const [name, value] of Object.entries({ fill: "none", stroke: "currentColor", "stroke-width": "2.4", "stroke-linecap": "round", "stroke-linejoin": "round",
    d: "M21 11.5l-8.6 8.6a5.5 5.5 0 0 1-7.8-7.8l9.2-9.2a3.7 3.7 0 0 1 5.2 5.2l-9.2 9.2a1.8 1.8 0 0 1-2.6-2.6l8.5-8.5" })) {
    path.setAttribute(name, value);
  }
  svg.append(path);
  return svg;
}

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
      // The line under the title, and the same in words for the entry's accessible name.
      let lastText;
      let lastLine;
      if (!last) lastText = lastLine = "No messages yet";
      else if (last.deletedAt) lastText = lastLine = "Message deleted";
      else if (last.kind === "system") lastText = lastLine = plainText(last.content ?? "");
      else {
        const who = `${last.sender?.id === store.me?.id ? "You" : last.sender?.displayName}: `;
        const { text, files } = previewParts(last);
        lastText = who + messagePreview(last);
        lastLine = files ? [who, clipIcon(), files] : who + text;
      }
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
          h("span", { class: "conversation-last" }, lastLine)),
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
