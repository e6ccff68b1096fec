// The chat views: conversation list, people search, groups, and the message view with
// history paging, optimistic sends, edits, deletes, typing and read markers. Also the chat
// side of the WebSocket (events in, and the catch-up after a reconnect).

import { describeError } from "./api.js?v=dev";
import { $, h, reconcile, showAlert, formatTime, newClientMsgId } from "./dom.js?v=dev";

const PAGE_SIZE = 50;
const TYPING_REPEAT_MS = 3_000;
const REFRESH_PAGES = 5;

export class ChatView {
  constructor({ api, socket, store, calls }) {
    this.api = api;
    this.socket = socket;
    this.store = store;
    this.calls = calls;
    this.messageNodes = new Map(); // key -> {node, signature}
    this.editing = null;           // {conversationId, messageId, draft}
    // Unsent text per conversation: the box holds only the open conversation's own, so text
    // typed in one conversation is never sent to another by the next Enter.
    this.drafts = new Map();       // conversationId -> text
    this.lastTypingSent = 0;
    this.readSent = new Map();     // conversationId -> messageId last reported read
    this.syncing = null;
    this.disconnects = 0;          // counts drops, so a fetch can tell one happened while it ran
    this.#bindControls();
    this.#bindSocket();
    store.addEventListener("change", (event) => this.#onChange(event.detail));
    document.addEventListener("visibilitychange", () => this.#maybeMarkRead());
  }

  // MARK: lifecycle

  /** After sign-in and after every reconnect: fresh conversation list, then what the open one missed.
   * A reconnect during a sync runs it once more when it ends, so a catch-up never predates the
   * connection it is for. */
  async sync() {
    if (this.syncing) {
      this.resyncWanted = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      try {
        do {
          this.resyncWanted = false;
          await this.#syncOnce();
        } while (this.resyncWanted);
      } finally {
        this.syncing = null;
      }
    })();
    return this.syncing;
  }

  async #syncOnce() {
    try {
      const fetchedFrom = this.store.presenceEvents;
      const { conversations } = await this.api.conversations();
      // Threads of conversations one no longer belongs to go; the others stay, with their unsent
      // messages, and catch up from where they were when they are opened.
      this.store.setConversations(conversations, { presenceSince: fetchedFrom });
      const active = this.store.activeId;
      if (active && this.store.conversations.has(active)) {
        this.socket.send("room.join", { conversationId: active });
        await this.#catchUp(active);
      } else if (active) {
        this.showEmpty();
      }
      for (const [id, thread] of this.store.threads) if (id !== active && thread.pending.size) this.#resendPending(id);
    } catch (error) {
      if (error.status !== 401) showAlert(`Could not load your conversations: ${describeError(error)}`);
    }
  }

  /** The connection dropped: every loaded thread remembers where its unbroken history ends. */
  markDisconnected() {
    this.disconnects += 1;
    for (const thread of this.store.threads.values()) {
      // "" marks a thread that was empty: it is loaded afresh, whatever arrived live since.
      if (thread.loaded && thread.resumeAfter === null) thread.resumeAfter = thread.newestId ?? "";
    }
  }

  /** Fetches every message after the last one known to follow an unbroken history, page by page,
   * so nothing is skipped; messages already held are replaced, not repeated. The mark is only
   * cleared when the socket has been up for the whole fetch (live events then cover the rest);
   * otherwise it moves to where the fetch got, and the next catch-up goes on from there. */
  async #catchUp(conversationId) {
    const thread = this.store.thread(conversationId);
    if (!thread.loaded) return this.#loadNewest(conversationId);
    const disconnects = this.disconnects;
    const afterDrop = thread.resumeAfter !== null;
    let after = thread.resumeAfter ?? thread.newestId;
    if (!after) {
      thread.resumeAfter = null;
      await this.#loadNewest(conversationId);
      this.#resendPending(conversationId);
      return;
    }
    for (let guard = 0; guard < 1_000; guard += 1) {
      const page = await this.api.messages(conversationId, { after, limit: 100 });
      this.store.addMessages(conversationId, page.messages);
      if (page.messages.length === 0) break;
      after = page.messages.reduce((newest, m) => (m.id > newest ? m.id : newest), after);
      if (!page.hasMore) break;
    }
    if (afterDrop) await this.#refreshHeld(conversationId);
    thread.resumeAfter = disconnects === this.disconnects && this.socket.online ? null : after;
    this.#resendPending(conversationId);
  }

  /** Edits and deletes made while disconnected: `after` brings only new messages, so the held
   * history is read again from the newest down, up to REFRESH_PAGES pages of 100, and each copy
   * held is replaced (older ones refresh when the thread is loaded anew). */
  async #refreshHeld(conversationId) {
    const thread = this.store.thread(conversationId);
    const oldest = thread.oldestId;
    let before;
    for (let page = 0; page < REFRESH_PAGES && oldest; page += 1) {
      const { messages, hasMore } = await this.api.messages(conversationId, before ? { before, limit: 100 } : { limit: 100 });
      this.store.addMessages(conversationId, messages.filter((m) => thread.messages.has(m.id)));
      if (!hasMore || messages.length === 0) break;
      before = messages.reduce((id, m) => (m.id < id ? m.id : id), messages[0].id);
      if (before <= oldest) break;
    }
  }

  async #loadNewest(conversationId) {
    const thread = this.store.thread(conversationId);
    const disconnects = this.disconnects;
    const page = await this.api.messages(conversationId, { limit: PAGE_SIZE });
    thread.loaded = true;
    thread.hasOlder = page.hasMore;
    // Loaded while the socket was down (or dropped meanwhile): what came after this page must
    // be caught up on, as for a thread that was loaded when the drop came.
    if (disconnects !== this.disconnects || !this.socket.online) {
      const newest = page.messages.reduce((id, m) => (id === null || m.id > id ? m.id : id), null);
      if (thread.resumeAfter === null || thread.resumeAfter === "") thread.resumeAfter = newest ?? "";
    }
    this.store.addMessages(conversationId, page.messages);
    this.#scrollToBottom();
  }

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

  async open(conversationId) {
    const store = this.store;
    if (store.activeId && store.activeId !== conversationId) {
      this.#stopTyping();
      this.socket.send("room.leave", { conversationId: store.activeId });
      this.cancelEdit();
      this.#keepDraft();
    }
    if (store.activeId !== conversationId) $("composer-input").value = this.drafts.get(conversationId) ?? "";
    store.activeId = conversationId;
    $("app-view").classList.add("conversation-open");
    this.messageNodes.clear();
    $("message-list").replaceChildren();
    this.renderConversationList();
    this.renderHeader();
    this.renderMessages();
    this.renderTyping();
    $("empty-view").hidden = true;
    $("conversation-view").hidden = false;
    $("composer-input").focus();
    this.socket.send("room.join", { conversationId });
    const thread = store.thread(conversationId);
    try {
      if (thread.loaded) await this.#catchUp(conversationId);
      else await this.#loadNewest(conversationId);
    } catch (error) {
      showAlert(`Could not load messages: ${describeError(error)}`);
    }
    this.#scrollToBottom();
    this.#maybeMarkRead();
  }

  /** No conversation open (the list alone at phone width): leaves the open one's room, so the
   * server stops counting this person as looking at it, and keeps keyboard focus on the list. */
  showEmpty() {
    // (Not for a conversation one was removed from: its room is gone already.)
    if (this.store.activeId && this.store.conversations.has(this.store.activeId)) {
      this.#stopTyping();
      this.cancelEdit();
      this.socket.send("room.leave", { conversationId: this.store.activeId });
      this.#keepDraft();
    } else {
      this.editing = null; // a conversation one was removed from: its edit and draft go with it
      $("edit-banner").hidden = true;
      $("send-button").textContent = "Send";
    }
    $("composer-input").value = "";
    const wasOpen = this.store.activeId;
    this.store.activeId = null;
    $("conversation-view").hidden = true;
    $("empty-view").hidden = false;
    $("app-view").classList.remove("conversation-open");
    this.renderConversationList();
    if (wasOpen) {
      const item = document.querySelector(`#conversation-list button[data-conversation-id="${CSS.escape(wasOpen)}"]`);
      (item ?? $("user-search")).focus();
    }
  }

  // MARK: socket events

  #bindSocket() {
    const s = this.socket;
    const store = this.store;
    s.on("message.new", ({ data }) => this.#onIncoming(data.message));
    s.on("message.sent", ({ data }) => store.addMessages(data.message.conversationId, [data.message]));
    s.on("message.updated", ({ data }) => store.updateMessage(data.message));
    s.on("message.deleted", ({ data }) => store.markDeleted(data.conversationId, data.messageId));
    s.on("typing", ({ data }) => { if (data.userId !== store.me?.id) store.setTyping(data.conversationId, data.userId, data.typing); });
    s.on("read.updated", ({ data }) => store.setRead(data.conversationId, data.userId, data.messageId));
    s.on("presence", ({ data }) => store.setPresence(data.userId, data.online));
    s.on("room.joined", ({ data }) => {
      for (const userId of data.online ?? []) store.presence.set(userId, true);
      for (const userId of data.typing ?? []) if (userId !== store.me?.id) store.setTyping(data.conversationId, userId, true);
      store.changed("presence");
    });
    s.on("conversation.created", ({ data }) => store.upsertConversation(data.conversation));
    s.on("conversation.updated", ({ data }) => store.upsertConversation(data.conversation));
    s.on("member.added", ({ data }) => this.#refreshConversation(data.conversationId));
    s.on("member.removed", ({ data }) => {
      if (data.userId === store.me?.id) {
        const wasOpen = store.activeId === data.conversationId;
        this.drafts.delete(data.conversationId);
        store.removeConversation(data.conversationId);
        if (wasOpen) this.showEmpty();
      } else {
        this.#refreshConversation(data.conversationId);
      }
    });
    s.on("call.state", ({ data }) => store.setCall(data.conversationId, { active: data.active, participants: data.participants ?? [] }));
    s.on("error", ({ data }) => {
      if (data?.code === "not_in_call") return; // the call view says it in its own words
      showAlert(describeError(data ?? {}));
    });
  }

  #onIncoming(message) {
    const store = this.store;
    const conversation = store.conversations.get(message.conversationId);
    if (!conversation) {
      this.#refreshConversation(message.conversationId);
      return;
    }
    const thread = store.threads.get(message.conversationId);
    const fresh = !thread?.messages.has(message.id);
    const watching = store.activeId === message.conversationId && document.visibilityState === "visible";
    if (fresh && message.sender.id !== store.me?.id && !watching) conversation.unreadCount = (conversation.unreadCount ?? 0) + 1;
    if (message.sender.id !== store.me?.id) store.setTyping(message.conversationId, message.sender.id, false);
    if (thread?.loaded) {
      store.addMessages(message.conversationId, [message]);
    } else {
      conversation.lastMessage = message;
      store.changed("conversations", message.conversationId);
    }
    if (watching) this.#maybeMarkRead();
  }

  async #refreshConversation(conversationId) {
    try {
      this.store.upsertConversation(await this.api.conversation(conversationId));
    } catch (error) {
      if (error.status === 404) this.store.removeConversation(conversationId);
    }
  }

  // MARK: rendering

  #onChange({ kind, conversationId }) {
    const active = this.store.activeId;
    if (kind === "conversations" || kind === "presence" || kind === "active") {
      this.renderConversationList();
      if (active && (conversationId === active || kind === "presence")) this.renderHeader();
      if (kind === "active" && !active) this.showEmpty();
    }
    if ((kind === "messages" || kind === "reads") && conversationId === active) this.renderMessages();
    if (kind === "typing" && (conversationId === active || conversationId === null)) this.renderTyping();
  }

  renderConversationList() {
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
          : `${last.sender?.id === store.me?.id ? "You" : last.sender?.displayName}: ${last.content}`;
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
      this.#scrollToBottom();
    }
    this.#maybeMarkRead();
  }

  #messageNode(key, message, pending, readers, keep) {
    keep.add(key);
    const mine = message.sender?.id === this.store.me?.id;
    const signature = JSON.stringify([message.content, message.editedAt, message.deletedAt, pending?.state, pending?.error, readers,
      this.editing?.messageId === message.id]);
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
      actions.push(h("button", { type: "button", class: "small", onclick: () => this.retry(pending.clientMsgId) }, "Retry"));
      actions.push(h("button", { type: "button", class: "small", "aria-label": "Discard unsent message",
        onclick: () => { this.store.thread(this.store.activeId).pending.delete(pending.clientMsgId); this.store.changed("messages", this.store.activeId); } },
      "Discard"));
    }
    if (mine && !pending && !deleted) {
      actions.push(h("button", { type: "button", class: "small ghost", "aria-label": `Edit message: ${excerpt(message.content)}`,
        onclick: () => this.startEdit(message) }, "Edit"));
      const remove = h("button", { type: "button", class: "small ghost", "aria-label": `Delete message: ${excerpt(message.content)}`,
        onclick: () => {
          if (remove.dataset.armed) {
            this.deleteMessage(message);
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
      class: `message${mine ? " mine" : ""}${pending ? ` pending ${pending.state}` : ""}${this.editing?.messageId === message.id ? " being-edited" : ""}`,
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

  #scrollToBottom() {
    const scroller = $("message-scroller");
    scroller.scrollTop = scroller.scrollHeight;
  }

  // MARK: reading

  #maybeMarkRead() {
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
      this.renderConversationList();
    }
  }

  // MARK: sending, editing, deleting

  async send(content) {
    const conversationId = this.store.activeId;
    if (!conversationId) return;
    const clientMsgId = newClientMsgId();
    this.store.addPending(conversationId, clientMsgId, content);
    this.stickToBottom = true;
    this.renderMessages();
    await this.#deliver(conversationId, clientMsgId, content);
  }

  async #deliver(conversationId, clientMsgId, content) {
    const store = this.store;
    try {
      let message;
      if (this.socket.online) {
        try {
          message = (await this.socket.request("message.send", { conversationId, content, clientMsgId })).data.message;
        } catch (error) {
          // The socket dropped or timed out mid-send: the server may have stored it, and the same
          // clientMsgId over REST returns that message rather than a second one.
          if (!["closed", "offline", "timeout"].includes(error.code)) throw error;
          message = await this.api.sendMessage(conversationId, content, clientMsgId);
        }
      } else {
        message = await this.api.sendMessage(conversationId, content, clientMsgId);
      }
      store.addMessages(conversationId, [message]);
    } catch (error) {
      const unreachable = error.status === 0 || error.status >= 500 || ["closed", "offline", "timeout"].includes(error.code);
      store.setPendingState(conversationId, clientMsgId, "failed", describeError(error), unreachable);
      showAlert(`Your message was not sent: ${describeError(error)}`);
    }
  }

  retry(clientMsgId, conversationId = this.store.activeId) {
    const pending = this.store.thread(conversationId).pending.get(clientMsgId);
    if (!pending) return;
    this.store.setPendingState(conversationId, clientMsgId, "sending");
    this.#deliver(conversationId, clientMsgId, pending.content);
  }

  #resendPending(conversationId) {
    for (const pending of this.store.thread(conversationId).pending.values()) {
      if (pending.state === "failed" && pending.retryable) this.retry(pending.clientMsgId, conversationId);
    }
  }

  /** Files the box's text as the open conversation's draft (not while editing: that text is the
   * message's, and the draft waits in `editing.draft`). */
  #keepDraft() {
    const id = this.store.activeId;
    if (!id || this.editing) return;
    const text = $("composer-input").value;
    if (text) this.drafts.set(id, text);
    else this.drafts.delete(id);
  }

  startEdit(message) {
    const draft = this.editing ? this.editing.draft : $("composer-input").value;
    this.editing = { conversationId: message.conversationId, messageId: message.id, draft };
    $("edit-banner").hidden = false;
    const input = $("composer-input");
    input.value = message.content;
    input.focus();
    $("send-button").textContent = "Save";
    this.renderMessages();
  }

  cancelEdit() {
    if (!this.editing) return;
    const { draft } = this.editing;
    this.editing = null;
    $("edit-banner").hidden = true;
    $("composer-input").value = draft ?? ""; // the unsent text the edit had set aside
    $("send-button").textContent = "Send";
    this.renderMessages();
  }

  async #saveEdit(content) {
    const { conversationId, messageId } = this.editing;
    try {
      let message;
      if (this.socket.online) {
        message = (await this.socket.request("message.edit", { conversationId, messageId, content })).data.message;
      } else {
        message = await this.api.request("PATCH", `/conversations/${encodeURIComponent(conversationId)}/messages/${encodeURIComponent(messageId)}`, { content });
      }
      this.store.updateMessage(message);
      this.cancelEdit();
    } catch (error) {
      showAlert(`Could not save your edit: ${describeError(error)}`);
    }
  }

  async deleteMessage(message) {
    const { conversationId, id } = message;
    try {
      if (this.socket.online) {
        await this.socket.request("message.delete", { conversationId, messageId: id });
      } else {
        await this.api.request("DELETE", `/conversations/${encodeURIComponent(conversationId)}/messages/${encodeURIComponent(id)}`);
      }
      this.store.markDeleted(conversationId, id);
    } catch (error) {
      showAlert(`Could not delete the message: ${describeError(error)}`);
    }
  }

  #typed() {
    const id = this.store.activeId;
    if (!id || this.editing) return;
    const value = $("composer-input").value;
    if (!value.trim()) {
      this.#stopTyping();
      return;
    }
    const now = Date.now();
    if (now - this.lastTypingSent > TYPING_REPEAT_MS) {
      this.lastTypingSent = now;
      this.socket.send("typing.start", { conversationId: id });
    }
  }

  #stopTyping() {
    if (!this.lastTypingSent || !this.store.activeId) return;
    this.lastTypingSent = 0;
    this.socket.send("typing.stop", { conversationId: this.store.activeId });
  }

  // MARK: controls

  #bindControls() {
    const input = $("composer-input");
    $("composer").addEventListener("submit", (event) => {
      event.preventDefault();
      const content = input.value;
      if (!content.trim()) {
        showAlert("A message cannot be empty.", { kind: "info", timeoutMs: 4_000 });
        return;
      }
      if (this.editing) {
        this.#saveEdit(content);
        return;
      }
      input.value = "";
      this.drafts.delete(this.store.activeId);
      this.lastTypingSent = 0; // the server ends typing on send
      this.send(content);
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        $("composer").requestSubmit();
      } else if (event.key === "Escape" && this.editing) {
        this.cancelEdit();
      }
    });
    input.addEventListener("input", () => this.#typed());
    input.addEventListener("blur", () => this.#stopTyping());
    $("cancel-edit").addEventListener("click", () => this.cancelEdit());
    $("load-older").addEventListener("click", () => this.loadOlder());
    $("message-scroller").addEventListener("scroll", () => {
      if ($("message-scroller").scrollTop < 80) this.loadOlder();
    }, { passive: true });
    $("back-button").addEventListener("click", () => this.showEmpty());
    $("call-button").addEventListener("click", () => {
      if (this.store.activeId) this.calls.join(this.store.activeId);
    });

    // People search: picking someone opens (or creates) the DM with them.
    userSearch(this, $("user-search"), $("user-results"), (user) => `Message ${user.displayName}`, async (user) => {
      try {
        const conversation = await this.api.createDM(user.id);
        this.store.upsertConversation(conversation);
        $("user-search").value = "";
        $("user-results").replaceChildren();
        await this.open(conversation.id);
        $("composer-input").focus();
      } catch (error) {
        showAlert(`Could not start the conversation: ${describeError(error)}`);
      }
    });

    // New group.
    const chosen = new Map();
    const renderChosen = () => {
      $("group-chosen").replaceChildren(...[...chosen.values()].map((user) => h("li", {},
        h("span", {}, user.displayName),
        h("button", { type: "button", class: "small", "aria-label": `Remove ${user.displayName} from the new group`,
          onclick: () => { chosen.delete(user.id); renderChosen(); } }, "Remove"))));
    };
    $("new-group-button").addEventListener("click", () => {
      chosen.clear();
      renderChosen();
      $("group-title").value = "";
      $("group-member-search").value = "";
      $("group-member-results").replaceChildren();
      $("group-dialog").showModal();
      $("group-title").focus();
    });
    $("group-cancel").addEventListener("click", () => $("group-dialog").close());
    userSearch(this, $("group-member-search"), $("group-member-results"), (user) => `Add ${user.displayName}`, (user) => {
      chosen.set(user.id, user);
      renderChosen();
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

    // Group settings: rename, members, leave.
    $("group-settings-button").addEventListener("click", () => {
      const conversation = this.store.conversations.get(this.store.activeId);
      if (!conversation) return;
      $("rename-input").value = conversation.title ?? "";
      this.renderSettings();
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
        this.renderSettings();
      } catch (error) {
        showAlert(`Could not add ${user.displayName}: ${describeError(error)}`);
      }
    }, () => new Set((this.store.conversations.get(this.store.activeId)?.members ?? []).map((m) => m.user.id)));
    $("leave-group").addEventListener("click", async () => {
      const id = this.store.activeId;
      try {
        await this.api.removeMember(id, this.store.me.id);
        $("settings-dialog").close();
        if (this.calls.conversationId === id) await this.calls.leave();
        this.store.removeConversation(id);
        this.showEmpty();
      } catch (error) {
        showAlert(`Could not leave the group: ${describeError(error)}`);
      }
    });
    this.store.addEventListener("change", ({ detail }) => {
      if (detail.kind === "conversations" && detail.conversationId === this.store.activeId && $("settings-dialog").open) this.renderSettings();
    });
  }

  renderSettings() {
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
          onclick: async () => {
            try {
              await this.api.removeMember(conversation.id, member.user.id);
              await this.#refreshConversation(conversation.id);
            } catch (error) {
              showAlert(`Could not remove ${member.user.displayName}: ${describeError(error)}`);
            }
          } }, "Remove") : null);
    }));
  }

}

function excerpt(text) {
  return text.length > 40 ? `${text.slice(0, 40)}\u2026` : text;
}

/** A search box listing matching people as buttons; `label(user)` names each button. */
function userSearch(view, input, list, label, pick, exclude = () => new Set()) {
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
        const { users } = await view.api.searchUsers(q);
        if (mine !== generation) return;
        const skip = exclude();
        const found = users.filter((user) => user.id !== view.store.me?.id && !skip.has(user.id));
        list.replaceChildren(...found.map((user) => h("li", {},
          h("button", { type: "button", class: "user-result", "aria-label": label(user), onclick: () => pick(user) },
            h("span", { class: `presence-dot${user.online ? " online" : ""}`, "aria-hidden": "true" }),
            h("span", {}, user.displayName)))));
        if (found.length === 0) list.append(h("li", { class: "empty-hint" }, "Nobody found."));
      } catch (error) {
        showAlert(`Search failed: ${describeError(error)}`);
      }
    }, 200);
  });
}
