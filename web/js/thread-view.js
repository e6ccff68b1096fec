// The open conversation: its header (title, who is online, the call button), the message list
// with pending sends, their attachments (attachments.js) and the others' read markers, older
// history on scroll, the typing line, and reporting what this person has read.

import { describeError } from "./api.js?v=dev";
import { $, h, reconcile, showAlert, formatTime, formatFullDate, formatDay } from "./dom.js?v=dev";
import { formatMessage } from "./format.js?v=dev";
import { AttachmentView, attachmentSummary } from "./attachments.js?v=dev";

/** Messages per history page, for the newest page of a thread and every older one. */
export const PAGE_SIZE = 50;
/** How far from the bottom still counts as "at the newest messages". */
const NEAR_BOTTOM_PX = 60;
/** Messages from one sender this close together are drawn as one group (one name, one time). */
const GROUP_GAP_MS = 5 * 60_000;
/** Pages of older history loaded at most to reach the first unread message when opening. */
const UNREAD_PAGES = 8;
/** The share of a message (or of the list's height, for a tall one) that must show for it to count as read. */
const SEEN_SHARE = 0.6;

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
    // Whether the reader is at the newest messages: a layout change (a call starting, the window
    // or keyboard resizing) keeps them there. Updated by the reader's own scrolling only.
    this.pinned = true;
    this.height = 0;
    // While a conversation opens, nothing scrolls by itself and nothing counts as read until it
    // stands at its first unread message (or the newest).
    this.positioning = false;
    // The "New messages" divider: above the first message unread when the conversation opened.
    this.unreadAnchor = null;      // {conversationId, messageId}
    this.focusKey = null;          // the message that is the list's one Tab stop
    this.markQueued = false;
    // Pictures and files of the messages shown; a picture whose size was unknown keeps the
    // reader at the newest messages when it takes its real size.
    this.attachments = new AttachmentView({
      api,
      onLayout: () => { if (this.pinned && !this.positioning && this.keepFromBottom === undefined) this.scrollToBottom(); },
    });
    this.observer = typeof IntersectionObserver === "function"
      ? new IntersectionObserver(() => this.#queueMarkRead(), { root: $("message-scroller"), threshold: [0, SEEN_SHARE, 1] })
      : null;
    this.#bindControls();
  }

  #bindControls() {
    const scroller = $("message-scroller");
    $("load-older").addEventListener("click", () => this.loadOlder());
    scroller.addEventListener("scroll", () => {
      // A scroll that comes with a change of size is the layout's, not the reader's: the resize
      // observer below decides where that leaves the list.
      if (scroller.clientHeight === 0 || scroller.clientHeight !== this.height) return;
      if (!this.positioning) this.pinned = this.#distanceFromBottom() < NEAR_BOTTOM_PX;
      if (scroller.scrollTop < 80) this.loadOlder();
      this.#updateJump();
      this.#queueMarkRead();
    }, { passive: true });
    if (typeof ResizeObserver === "function") {
      new ResizeObserver(() => {
        const height = scroller.clientHeight;
        const changed = height !== this.height;
        this.height = height;
        if (!changed || height === 0 || this.positioning) return;
        if (this.pinned) this.scrollToBottom();
        this.#updateJump();
        this.#queueMarkRead();
      }).observe(scroller);
    }
    $("jump-latest").addEventListener("click", () => {
      this.scrollToBottom();
      const last = [...$("message-list").querySelectorAll("li.message")].pop();
      if (last) this.#focusMessage(last);
      else $("composer-input").focus();
    });
    // The list is one Tab stop (the current message); arrows, Home and End move between messages,
    // and a message's own buttons join the Tab order only while it has focus.
    const list = $("message-list");
    list.addEventListener("keydown", (event) => {
      const item = event.target.closest?.("li.message");
      if (!item || event.target !== item) return;
      const items = [...list.querySelectorAll("li.message")];
      const index = items.indexOf(item);
      const target = { ArrowUp: index - 1, ArrowDown: index + 1, Home: 0, End: items.length - 1 }[event.key];
      if (target === undefined) return;
      event.preventDefault();
      if (target < 0) {
        this.loadOlder();
        return;
      }
      if (items[target]) this.#focusMessage(items[target]);
    });
    list.addEventListener("focusin", (event) => {
      const item = event.target.closest?.("li.message");
      if (!item) return;
      this.focusKey = item.dataset.key;
      for (const other of list.querySelectorAll("li.message[tabindex='0']")) if (other !== item) other.tabIndex = -1;
      item.tabIndex = 0;
      for (const button of item.querySelectorAll("button")) button.tabIndex = 0;
    });
    list.addEventListener("focusout", (event) => {
      const item = event.target.closest?.("li.message");
      if (!item || item.contains(event.relatedTarget)) return;
      for (const button of item.querySelectorAll("button")) button.tabIndex = -1;
    });
    $("call-button").addEventListener("click", () => {
      if (this.store.activeId) this.calls.join(this.store.activeId);
    });
  }

  /** Forgets the drawn messages (another conversation is opened, or the person signs out). */
  clear() {
    this.messageNodes.clear();
    this.attachments.releaseAll(); // the blob: URLs of the conversation left
    this.observer?.disconnect();
    this.focusKey = null;
    $("message-list").replaceChildren();
  }

  /** A conversation starts opening: it is drawn, but not scrolled or read, until `openAt`. */
  beginOpen() {
    this.positioning = true;
    this.unreadAnchor = null;
    this.pinned = true;
    $("jump-latest").hidden = true;
  }

  /** Shows the open conversation at its first unread message, under a "New messages" divider
   * (loading older pages to reach it), or at the newest when nothing is unread. `unread` is the
   * conversation's unread count when it was opened. */
  async openAt(conversationId, unread) {
    const store = this.store;
    this.positioning = true;
    try {
      const thread = store.thread(conversationId);
      let anchor = unread > 0 ? this.#firstUnread(thread, unread) : null;
      for (let page = 0; unread > 0 && !anchor && thread.hasOlder && page < UNREAD_PAGES; page += 1) {
        await this.loadOlder();
        if (store.activeId !== conversationId) return;
        anchor = this.#firstUnread(thread, unread);
      }
      if (store.activeId !== conversationId) return;
      if (unread > 0) anchor ??= thread.oldestId;
      this.unreadAnchor = anchor ? { conversationId, messageId: anchor } : null;
      this.renderMessages();
      const scroller = $("message-scroller");
      const divider = $("message-list").querySelector(".unread-divider");
      if (divider) {
        scroller.scrollTop += divider.getBoundingClientRect().top - scroller.getBoundingClientRect().top - 8;
      } else {
        this.scrollToBottom();
      }
    } finally {
      if (store.activeId === conversationId) this.positioning = false;
    }
    this.pinned = this.#distanceFromBottom() < NEAR_BOTTOM_PX;
    this.#updateJump();
    this.maybeMarkRead();
  }

  /** The oldest of the `unread` newest messages from the others, if loaded. */
  #firstUnread(thread, unread) {
    const me = this.store.me?.id;
    let count = 0;
    const messages = thread.ordered();
    for (let i = messages.length - 1; i >= 0; i -= 1) {
      if (messages[i].sender?.id !== me) count += 1;
      if (count >= unread) return messages[i].id;
    }
    return null;
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
      const count = conversation.members.length;
      subtitle = `${count} member${count === 1 ? "" : "s"}, ${onlineCount} other${onlineCount === 1 ? "" : "s"} online`;
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
   * changed (see `#messageNode`), with a heading for each day, the "New messages" divider, and
   * runs of one sender's messages grouped; keeps the reader at the bottom if they were there. */
  renderMessages() {
    const store = this.store;
    const conversationId = store.activeId;
    if (!conversationId) return;
    const thread = store.thread(conversationId);
    const scroller = $("message-scroller");
    const messages = thread.ordered();
    // Read markers of the other members: each shows under the newest loaded message at or before it.
    const readersAt = new Map();
    for (const [userId, messageId] of store.reads.get(conversationId) ?? []) {
      if (userId === store.me?.id) continue;
      let at = null;
      for (const message of messages) if (message.id <= messageId && message.kind !== "system") at = message.id; // not under a system line
      if (!at) continue;
      if (!readersAt.has(at)) readersAt.set(at, []);
      readersAt.get(at).push(store.displayName(conversationId, userId));
    }
    const anchor = this.unreadAnchor?.conversationId === conversationId ? this.unreadAnchor.messageId : null;
    const nodes = [];
    const keep = new Set();
    let previous = null;
    const add = (key, message, pending, readers) => {
      const day = new Date(message.createdAt).toDateString();
      const newDay = !previous || new Date(previous.createdAt).toDateString() !== day;
      if (newDay) nodes.push(this.#separator(`d:${day}`, "date-separator", formatDay(message.createdAt), keep));
      const divider = anchor && message.id === anchor;
      if (divider) nodes.push(this.#separator("unread", "unread-divider", "New messages", keep));
      const grouped = Boolean(previous) && !newDay && !divider && !previous.deletedAt && !message.deletedAt
        && previous.kind !== "system" && message.kind !== "system"
        && previous.sender?.id === message.sender?.id
        && new Date(message.createdAt) - new Date(previous.createdAt) < GROUP_GAP_MS;
      nodes.push(this.#messageNode(key, message, pending, readers, grouped, keep));
      previous = message;
    };
    for (const message of messages) add(`m:${message.id}`, message, null, readersAt.get(message.id) ?? []);
    for (const pending of thread.pending.values()) {
      // The sender's own files show from the page's copy, before and after the server confirms.
      for (const { attachment, file, thumbnail } of pending.local ?? []) this.attachments.seed(attachment, file, thumbnail);
      const shadow = { id: null, content: pending.content, sender: store.me, createdAt: pending.createdAt, editedAt: null, deletedAt: null,
        attachments: pending.attachments ?? [] };
      add(`p:${pending.clientMsgId}`, shadow, pending, []);
    }
    for (const key of [...this.messageNodes.keys()]) {
      if (keep.has(key)) continue;
      this.observer?.unobserve(this.messageNodes.get(key).node);
      this.messageNodes.delete(key);
    }
    reconcile($("message-list"), nodes);
    // Files no message shown here carries any more (deleted, or another conversation's) are let go.
    const shownFiles = new Set();
    for (const message of [...messages, ...[...thread.pending.values()].map((p) => ({ attachments: p.attachments }))]) {
      if (!message.deletedAt) for (const attachment of message.attachments ?? []) shownFiles.add(attachment.id);
    }
    this.attachments.retain(shownFiles);
    if (this.refocus) {
      const node = this.refocus;
      this.refocus = null;
      if (node.isConnected) this.#focusMessage(node);
    }
    this.#rovingStop();
    const older = $("load-older");
    older.hidden = !thread.hasOlder;
    older.disabled = thread.loadingOlder;
    if (this.keepFromBottom !== undefined) {
      scroller.scrollTop = scroller.scrollHeight - this.keepFromBottom;
      this.keepFromBottom = undefined;
    } else if (!this.positioning && (this.pinned || this.stickToBottom)) {
      this.stickToBottom = false;
      this.scrollToBottom();
    }
    this.#updateJump();
    this.maybeMarkRead();
  }

  /** Redraws the thread scrolled to the bottom, wherever the reader was: a send of one's own shows there. */
  revealNewest() {
    this.stickToBottom = true;
    this.pinned = true;
    this.renderMessages();
  }

  #separator(key, kind, text, keep) {
    keep.add(key);
    const signature = text;
    const cached = this.messageNodes.get(key);
    if (cached && cached.signature === signature) return cached.node;
    const node = h("li", { class: kind, dataset: { key } }, h("h3", { class: `${kind}-text` }, text));
    this.messageNodes.set(key, { node, signature });
    return node;
  }

  /** Exactly one message is in the Tab order: the one last focused, or else the newest. */
  #rovingStop() {
    const items = [...$("message-list").querySelectorAll("li.message")];
    const current = items.find((item) => item.dataset.key === this.focusKey) ?? items[items.length - 1];
    for (const item of items) {
      const stop = item === current;
      if ((item.tabIndex === 0) !== stop) item.tabIndex = stop ? 0 : -1;
    }
  }

  #focusMessage(item) {
    item.focus();
    item.scrollIntoView({ block: "nearest" });
  }

  /** One message's node, reused while its signature (what it shows) is unchanged, so focus on
   * its buttons and an armed "Confirm delete" survive redraws caused by other messages. */
  #messageNode(key, message, pending, readers, grouped, keep) {
    keep.add(key);
    if (message.kind === "system") return this.#systemNode(key, message, keep);
    const composer = this.composer;
    const mine = message.sender?.id === this.store.me?.id;
    const waiting = pending?.state === "failed" && pending.retryable;
    const files = message.deletedAt ? [] : (message.attachments ?? []).map((a) => a.id);
    const signature = JSON.stringify([message.content, files, message.editedAt, message.deletedAt, pending?.state, pending?.error, waiting,
      readers, grouped, message.sender?.displayName, message.sender?.kind, composer.editing?.messageId === message.id, new Date().toDateString()]);
    const cached = this.messageNodes.get(key);
    if (cached && cached.signature === signature) return cached.node;
    const deleted = Boolean(message.deletedAt);
    const who = mine ? "You" : message.sender?.displayName ?? this.store.displayName(message.conversationId, message.sender?.id);
    const body = deleted ? h("div", { class: "message-body deleted" }, "This message was deleted.")
      : h("div", { class: "message-body" }, formatMessage(message.content ?? ""));
    const attachments = this.attachments.render(message);
    // Buttons are named after the message's text, or its files when it has no text.
    const about = excerpt(message.content || attachmentSummary(message.attachments));
    const full = formatFullDate(message.createdAt);
    const meta = h("span", { class: "message-meta" },
      h("time", { datetime: message.createdAt, title: full }, formatTime(message.createdAt)),
      message.editedAt && !deleted ? h("span", { class: "edited" }, " (edited)") : null);
    const actions = [];
    if (pending?.state === "sending") actions.push(h("span", { class: "message-status" }, "Sending\u2026"));
    if (waiting) {
      // Sent again by itself once the connection is back: not a failure the person must act on.
      actions.push(h("span", { class: "message-status waiting", role: "status" }, "Waiting for the connection; will send automatically"));
    } else if (pending?.state === "failed") {
      actions.push(h("span", { class: "message-status failed", role: "status" }, `Not sent: ${pending.error ?? "error"}`));
    }
    if (pending?.state === "failed") {
      actions.push(h("button", { type: "button", class: "small", tabindex: "-1", onclick: () => composer.retry(pending.clientMsgId) }, "Retry"));
      actions.push(h("button", { type: "button", class: "small", tabindex: "-1", "aria-label": "Discard unsent message",
        onclick: () => { this.store.thread(this.store.activeId).pending.delete(pending.clientMsgId); this.store.changed("messages", this.store.activeId); $("composer-input").focus(); } },
      "Discard"));
    }
    if (mine && !pending && !deleted) {
      actions.push(h("button", { type: "button", class: "small ghost", tabindex: "-1", "aria-label": `Edit message: ${about}`,
        onclick: () => composer.startEdit(message) }, "Edit"));
      const remove = h("button", { type: "button", class: "small ghost", tabindex: "-1", "aria-label": `Delete message: ${about}`,
        onclick: () => {
          if (remove.dataset.armed) {
            composer.deleteMessage(message);
          } else {
            remove.dataset.armed = "1";
            remove.textContent = "Confirm delete";
            remove.setAttribute("aria-label", `Confirm delete of message: ${about}`);
            setTimeout(() => { delete remove.dataset.armed; remove.textContent = "Delete"; remove.setAttribute("aria-label", `Delete message: ${about}`); }, 5_000);
          }
        } }, "Delete");
      actions.push(remove);
    }
    const node = h("li", {
      class: `message${mine ? " mine" : ""}${grouped ? " grouped" : ""}${pending ? ` pending ${pending.state}` : ""}${waiting ? " waiting" : ""}${composer.editing?.messageId === message.id ? " being-edited" : ""}`,
      tabindex: "-1", title: full,
      dataset: { key, messageId: message.id ?? "", clientMsgId: pending?.clientMsgId ?? message.clientMsgId ?? "" },
    },
    h("div", { class: `message-head${grouped ? " visually-hidden" : ""}` }, h("span", { class: "sender" }, who), this.#senderBadge(message), meta),
    body,
    attachments,
    actions.length ? h("div", { class: "message-actions" }, actions) : null,
    readers.length ? h("p", { class: "read-marker" }, `Seen by ${readers.join(", ")}`) : null);
    // The message had focus (on its Delete, say): focus stays on the message, not the page.
    if (cached?.node.contains(document.activeElement)) this.refocus = node;
    this.observer?.observe(node);
    this.messageNodes.set(key, { node, signature });
    return node;
  }

  /** A line the server recorded (a member added or removed, a new title, a call's start and end):
   * centered and muted, not a bubble; no sender heading, actions or read markers. */
  #systemNode(key, message, keep) {
    const deleted = Boolean(message.deletedAt);
    const signature = JSON.stringify(["system", message.content, message.deletedAt, new Date().toDateString()]);
    const cached = this.messageNodes.get(key);
    if (cached && cached.signature === signature) return cached.node;
    const full = formatFullDate(message.createdAt);
    const node = h("li", {
      class: "message system", tabindex: "-1", title: full,
      dataset: { key, messageId: message.id ?? "", event: message.system?.event ?? "" },
    },
    h("span", { class: "visually-hidden" }, "Event: "),
    h("span", { class: `message-body system-text${deleted ? " deleted" : ""}` }, deleted ? "This event was deleted." : message.content ?? ""),
    " ",
    h("time", { class: "system-time", datetime: message.createdAt, title: full }, formatTime(message.createdAt)));
    if (cached?.node.contains(document.activeElement)) this.refocus = node;
    this.observer?.observe(node);
    this.messageNodes.set(key, { node, signature });
    return node;
  }

  /** "webhook" after a webhook's name, "bot" after a bot's: not a person writing. */
  #senderBadge(message) {
    if (message.sender?.kind === "webhook") return h("span", { class: "sender-badge" }, "webhook");
    const member = this.store.conversations.get(message.conversationId)?.members?.find((m) => m.user?.id === message.sender?.id);
    return member?.user?.role === "bot" ? h("span", { class: "sender-badge" }, "bot") : null;
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
    this.pinned = true;
    this.#updateJump();
  }

  #distanceFromBottom() {
    const scroller = $("message-scroller");
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight;
  }

  /** The "Jump to latest" button: shown while the reader is away from the newest messages, with
   * the number of messages from the others that came since they last saw the bottom. */
  #updateJump() {
    const button = $("jump-latest");
    const id = this.store.activeId;
    const away = Boolean(id) && !this.positioning && $("message-scroller").clientHeight > 0 && this.#distanceFromBottom() > NEAR_BOTTOM_PX * 2;
    if (!away) {
      if (!button.hidden) button.hidden = true;
      return;
    }
    const seen = this.#readFloor(id);
    const me = this.store.me?.id;
    let fresh = 0;
    for (const message of this.store.thread(id).messages.values()) if (message.sender?.id !== me && (!seen || message.id > seen)) fresh += 1;
    const text = fresh ? `Jump to latest (${fresh} new)` : "Jump to latest";
    if (button.textContent !== text) button.textContent = text;
    button.hidden = false;
  }

  // MARK: reading

  #queueMarkRead() {
    if (this.markQueued) return;
    this.markQueued = true;
    requestAnimationFrame(() => {
      this.markQueued = false;
      this.maybeMarkRead();
      this.#updateJump();
    });
  }

  /** The newest message this person has read (reported or known from the server). */
  #readFloor(id) {
    const myRead = this.store.reads.get(id)?.get(this.store.me?.id) ?? null;
    const sent = this.readSent.get(id) ?? null;
    return myRead && (!sent || myRead > sent) ? myRead : sent;
  }

  /** The newest message showing in the list now (at least SEEN_SHARE of it, or of the list's height). */
  newestVisible() {
    const scroller = $("message-scroller");
    const box = scroller.getBoundingClientRect();
    if (box.height === 0) return null;
    const items = $("message-list").querySelectorAll("li.message");
    for (let i = items.length - 1; i >= 0; i -= 1) {
      const item = items[i];
      const rect = item.getBoundingClientRect();
      if (rect.top >= box.bottom) continue;
      if (rect.bottom <= box.top) return null;
      const shown = Math.min(rect.bottom, box.bottom) - Math.max(rect.top, box.top);
      if (item.dataset.messageId && shown >= Math.min(rect.height, box.height) * SEEN_SHARE) return item.dataset.messageId;
    }
    return null;
  }

  /** Reports as read the newest message the person has actually had on screen (the page visible,
   * the conversation shown, the message in view), once, and only when something from the others
   * is new (over the socket, or over REST when it is down). */
  maybeMarkRead() {
    const store = this.store;
    const id = store.activeId;
    if (!id || this.positioning || document.visibilityState !== "visible") return;
    const thread = store.threads.get(id);
    if (!thread?.messages.size) return;
    const seen = this.newestVisible();
    if (!seen || !thread.messages.has(seen)) return;
    const conversation = store.conversations.get(id);
    const floor = this.#readFloor(id);
    if (floor && floor >= seen) return;
    const me = store.me?.id;
    const fromOthers = [...thread.messages.values()].some((m) => m.sender?.id !== me && m.id <= seen && (!floor || m.id > floor));
    if (!fromOthers && !(conversation?.unreadCount > 0)) return; // nothing new from others
    this.readSent.set(id, seen);
    if (!this.socket.send("read", { conversationId: id, messageId: seen })) {
      this.api.markRead(id, seen).catch(() => this.readSent.delete(id));
    }
    if (conversation) {
      let left = 0;
      for (const message of thread.messages.values()) if (message.sender?.id !== me && message.id > seen) left += 1;
      conversation.unreadCount = left;
      this.onUnreadCleared();
    }
  }
}

/** A message's start, for the accessible names of its buttons. */
function excerpt(text) {
  return text.length > 40 ? `${text.slice(0, 40)}\u2026` : text;
}
