// The open conversation: its header (title, who is online, the call button), the message list
// with pending sends and the others' read markers, older history on scroll, the typing line, and
// reporting what this person has read.

import { describeError } from "./api.js?v=dev";
import { $, h, reconcile, showAlert, formatTime } from "./dom.js?v=dev";

/** Messages per history page, for the newest page of a thread and every older one. */
export const PAGE_SIZE = 50;

export class ThreadView {
  /** `composer` owns the edit in progress and the message actions (retry, edit, delete) the list
   * offers; `onUnreadCleared()` redraws what shows the unread count once a read is reported. */
  constructor({ api, socket, store, calls, composer, onUnreadCleared }) {
    this.api = api;
    this.socket = socket;
    this.store = store;
    this.calls = calls;
    this.composer = composer;
    this.onUnreadCleared = onUnreadCleared;
    this.messageNodes = new Map(); // key -> {node, signature}
    this.readSent = new Map();     // conversationId -> messageId last reported read
    // Where the next redraw scrolls: `keepFromBottom` holds the distance from the bottom kept
    // while older history goes in above; `stickToBottom` follows a send to the bottom.
    this.keepFromBottom = undefined;
    this.stickToBottom = false;
    this.#bindControls();
  }

  #bindControls() {
    $("load-older").addEventListener("click", () => this.loadOlder());
    $("message-scroller").addEventListener("scroll", () => {
      if ($("message-scroller").scrollTop < 80) this.loadOlder();
    }, { passive: true });
    $("call-button").addEventListener("click", () => {
      if (this.store.activeId) this.calls.join(this.store.activeId);
    });
  }

  /** Forgets the drawn messages (another conversation is opened, or the person signs out). */
  clear() {
    this.messageNodes.clear();
    $("message-list").replaceChildren();
  }

  // MARK: history

  async loadOlder() {
    const conversationId = this.store.activeId;
    if (!conversationId) return;
    const thread = this.store.thread(conversationId);
    if (!thread.hasOlder || thread.loadingOlder || !thread.oldestId) return;
    thread.loadingOlder = true;
    const scroller = $("message-scroller");
    const fromBottom = scroller.scrollHeight - scroller.scrollTop;
    try {
      const page = await this.api.messages(conversationId, { before: thread.oldestId, limit: PAGE_SIZE });
      thread.hasOlder = page.hasMore;
      this.keepFromBottom = fromBottom;
      this.store.addMessages(conversationId, page.messages);
    } catch (error) {
      showAlert(`Could not load older messages: ${describeError(error)}`);
    } finally {
      thread.loadingOlder = false;
    }
  }

  // MARK: rendering

  renderHeader() {
    const store = this.store;
    const conversation = store.conversations.get(store.activeId);
    if (!conversation) return;
    $("conversation-title").textContent = store.title(conversation);
    const others = store.otherMembers(conversation);
    let subtitle;
    if (conversation.kind === "dm") {
      const other = others[0]?.user;
      subtitle = other && store.presence.get(other.id) ? "Online" : "Offline";
    } else {
      const onlineCount = others.filter((m) => store.presence.get(m.user.id)).length;
      subtitle = `${conversation.members.length} members, ${onlineCount} other${onlineCount === 1 ? "" : "s"} online`;
    }
    const call = conversation.call;
    if (call?.active) subtitle += ` \u00b7 call in progress (${call.participants.length})`;
    $("conversation-subtitle").textContent = subtitle;
    $("group-settings-button").hidden = conversation.kind !== "group";
    const button = $("call-button");
    const inThisCall = this.calls.conversationId === conversation.id;
    button.hidden = inThisCall;
    button.textContent = call?.active ? "Join call" : "Start call";
    button.disabled = this.calls.busy;
  }

  /** Redraws the open thread, rebuilding only the messages whose content, state or markers
   * changed (see `#messageNode`), and keeps the reader at the bottom if they were there. */
  renderMessages() {
    const store = this.store;
    const conversationId = store.activeId;
    if (!conversationId) return;
    const thread = store.thread(conversationId);
    const scroller = $("message-scroller");
    const nearBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 60;
    const messages = thread.ordered();
    // Read markers of the other members: each shows under the newest loaded message at or before it.
    const readersAt = new Map();
    for (const [userId, messageId] of store.reads.get(conversationId) ?? []) {
      if (userId === store.me?.id) continue;
      let at = null;
      for (const message of messages) if (message.id <= messageId) at = message.id;
      if (!at) continue;
      if (!readersAt.has(at)) readersAt.set(at, []);
      readersAt.get(at).push(store.displayName(conversationId, userId));
    }
    const nodes = [];
    const keep = new Set();
    for (const message of messages) {
      const readers = readersAt.get(message.id) ?? [];
      nodes.push(this.#messageNode(`m:${message.id}`, message, null, readers, keep));
    }
    for (const pending of thread.pending.values()) {
      const shadow = { id: null, content: pending.content, sender: store.me, createdAt: pending.createdAt, editedAt: null, deletedAt: null };
      nodes.push(this.#messageNode(`p:${pending.clientMsgId}`, shadow, pending, [], keep));
    }
    for (const key of [...this.messageNodes.keys()]) if (!keep.has(key)) this.messageNodes.delete(key);
    reconcile($("message-list"), nodes);
    const older = $("load-older");
    older.hidden = !thread.hasOlder;
    older.disabled = thread.loadingOlder;
    if (this.keepFromBottom !== undefined) {
      scroller.scrollTop = scroller.scrollHeight - this.keepFromBottom;
      this.keepFromBottom = undefined;
    } else if (nearBottom || this.stickToBottom) {
      this.stickToBottom = false;
      this.scrollToBottom();
    }
    this.maybeMarkRead();
  }

  /** Redraws the thread scrolled to the bottom, wherever the reader was: a send of one's own shows there. */
  revealNewest() {
    this.stickToBottom = true;
    this.renderMessages();
  }

  /** One message's node, reused while its signature (what it shows) is unchanged, so focus on
   * its buttons and an armed "Confirm delete" survive redraws caused by other messages. */
  #messageNode(key, message, pending, readers, keep) {
    keep.add(key);
    const composer = this.composer;
    const mine = message.sender?.id === this.store.me?.id;
    const signature = JSON.stringify([message.content, message.editedAt, message.deletedAt, pending?.state, pending?.error, readers,
      composer.editing?.messageId === message.id]);
    const cached = this.messageNodes.get(key);
    if (cached && cached.signature === signature) return cached.node;
    const deleted = Boolean(message.deletedAt);
    const who = mine ? "You" : message.sender?.displayName ?? "Someone";
    const body = deleted ? h("p", { class: "message-body deleted" }, "This message was deleted.")
      : h("p", { class: "message-body" }, message.content);
    const meta = h("span", { class: "message-meta" },
      h("time", { datetime: message.createdAt }, formatTime(message.createdAt)),
      message.editedAt && !deleted ? h("span", { class: "edited" }, " (edited)") : null);
    const actions = [];
    if (pending?.state === "sending") actions.push(h("span", { class: "message-status" }, "Sending\u2026"));
    if (pending?.state === "failed") {
      actions.push(h("span", { class: "message-status failed", role: "status" }, `Not sent: ${pending.error ?? "error"}`));
      actions.push(h("button", { type: "button", class: "small", onclick: () => composer.retry(pending.clientMsgId) }, "Retry"));
      actions.push(h("button", { type: "button", class: "small", "aria-label": "Discard unsent message",
        onclick: () => { this.store.thread(this.store.activeId).pending.delete(pending.clientMsgId); this.store.changed("messages", this.store.activeId); } },
      "Discard"));
    }
    if (mine && !pending && !deleted) {
      actions.push(h("button", { type: "button", class: "small ghost", "aria-label": `Edit message: ${excerpt(message.content)}`,
        onclick: () => composer.startEdit(message) }, "Edit"));
      const remove = h("button", { type: "button", class: "small ghost", "aria-label": `Delete message: ${excerpt(message.content)}`,
        onclick: () => {
          if (remove.dataset.armed) {
            composer.deleteMessage(message);
          } else {
            remove.dataset.armed = "1";
            remove.textContent = "Confirm delete";
            remove.setAttribute("aria-label", `Confirm delete of message: ${excerpt(message.content)}`);
            setTimeout(() => { delete remove.dataset.armed; remove.textContent = "Delete"; remove.setAttribute("aria-label", `Delete message: ${excerpt(message.content)}`); }, 5_000);
          }
        } }, "Delete");
      actions.push(remove);
    }
    const node = h("li", {
      class: `message${mine ? " mine" : ""}${pending ? ` pending ${pending.state}` : ""}${composer.editing?.messageId === message.id ? " being-edited" : ""}`,
      dataset: { messageId: message.id ?? "", clientMsgId: pending?.clientMsgId ?? message.clientMsgId ?? "" },
    },
    h("div", { class: "message-head" }, h("span", { class: "sender" }, who), meta),
    body,
    actions.length ? h("div", { class: "message-actions" }, actions) : null,
    readers.length ? h("p", { class: "read-marker" }, `Seen by ${readers.join(", ")}`) : null);
    this.messageNodes.set(key, { node, signature });
    return node;
  }

  renderTyping() {
    const store = this.store;
    const id = store.activeId;
    const names = id ? store.typingUsers(id).map((userId) => store.displayName(id, userId)) : [];
    let text = "";
    if (names.length === 1) text = `${names[0]} is typing\u2026`;
    else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing\u2026`;
    else if (names.length > 2) text = `${names.length} people are typing\u2026`;
    $("typing-indicator").textContent = text;
  }

  scrollToBottom() {
    const scroller = $("message-scroller");
    scroller.scrollTop = scroller.scrollHeight;
  }

  // MARK: reading

  /** Reports the open thread's newest message as read, once, while the page is visible and
   * something from the others is new (over the socket, or over REST when it is down). */
  maybeMarkRead() {
    const store = this.store;
    const id = store.activeId;
    if (!id || document.visibilityState !== "visible") return;
    const thread = store.threads.get(id);
    const newest = thread?.newestId;
    if (!newest) return;
    const conversation = store.conversations.get(id);
    const myRead = store.reads.get(id)?.get(store.me?.id);
    const already = this.readSent.get(id);
    if ((already && already >= newest) || (myRead && myRead >= newest)) return;
    const message = thread.messages.get(newest);
    if (message.sender?.id === store.me?.id && !(conversation?.unreadCount > 0)) return; // nothing new from others
    this.readSent.set(id, newest);
    if (!this.socket.send("read", { conversationId: id, messageId: newest })) {
      this.api.markRead(id, newest).catch(() => this.readSent.delete(id));
    }
    if (conversation) {
      conversation.unreadCount = 0;
      this.onUnreadCleared();
    }
  }
}

/** A message's start, for the accessible names of its buttons. */
function excerpt(text) {
  return text.length > 40 ? `${text.slice(0, 40)}\u2026` : text;
}
