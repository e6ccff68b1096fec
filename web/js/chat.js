// The chat view's coordinator: builds its parts (conversation list, thread view, composer,
// people search, group dialogs), opens and closes conversations, routes store changes to the
// part that shows them, and owns the chat side of the WebSocket: events in, and the catch-up
// after a reconnect, which has to know about every loaded thread at once.

import { describeError } from "./api.js?v=dev";
import { $, showAlert } from "./dom.js?v=dev";
import { ConversationList } from "./conversation-list.js?v=dev";
import { ThreadView, PAGE_SIZE } from "./thread-view.js?v=dev";
import { Composer } from "./composer.js?v=dev";
import { PeopleSearch } from "./people-search.js?v=dev";
import { NewGroupDialog, GroupSettingsDialog } from "./group-settings.js?v=dev";

/** Pages of 100 read again after a reconnect to pick up edits and deletes of held messages. */
const REFRESH_PAGES = 5;

export class ChatView {
  constructor({ api, socket, store, calls }) {
    this.api = api;
    this.socket = socket;
    this.store = store;
    this.calls = calls;
    this.syncing = null;
    this.disconnects = 0;          // counts drops, so a fetch can tell one happened while it ran
    this.leaving = new Set();      // groups this person is leaving: their removal needs no explaining

    this.conversationList = new ConversationList({ store, open: (id) => this.open(id) });
    this.composer = new Composer({
      api, socket, store,
      redraw: () => this.threadView.renderMessages(),
      revealNewest: () => this.threadView.revealNewest(),
    });
    this.threadView = new ThreadView({
      api, socket, store, calls, composer: this.composer,
      onUnreadCleared: () => { this.conversationList.render(); this.store.changed("unread"); },
    });
    $("back-button").addEventListener("click", () => this.showEmpty());
    // Each conversation has an address (#/c/<id>): reload, Back and links open it. A hash, since
    // the server answers only its own files and "/" with the client.
    addEventListener("hashchange", () => this.followRoute());
    const open = (id) => this.open(id);
    new PeopleSearch({ api, store, open, focusComposer: () => this.composer.focus() });
    new NewGroupDialog({ api, store, open });
    new GroupSettingsDialog({
      api, store, calls, leaving: this.leaving,
      refreshConversation: (id) => this.#refreshConversation(id),
      showEmpty: () => this.showEmpty(),
    });

    this.#bindSocket();
    store.addEventListener("change", (event) => this.#onChange(event.detail));
    document.addEventListener("visibilitychange", () => this.threadView.maybeMarkRead());
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
      for (const [id, thread] of this.store.threads) if (id !== active && thread.pending.size) this.composer.resendPending(id);
    } catch (error) {
      if (error.status !== 401) showAlert(`Could not load your conversations: ${describeError(error)}`);
    }
  }

  /** The address's conversation, once the list is known: opened if it is one's own, the list
   * shown for an address without one. */
  followRoute() {
    if (!this.store.me) return;
    const match = /^#\/c\/([^/?#]+)$/.exec(location.hash);
    const id = match ? decodeURIComponent(match[1]) : null;
    if (id && this.store.conversations.has(id)) {
      if (id !== this.store.activeId) this.open(id, { fromRoute: true });
    } else if (id) {
      history.replaceState(null, "", location.pathname + location.search);
      showAlert("That conversation is not one of yours, or no longer exists.", { kind: "info", timeoutMs: 6_000 });
      if (this.store.activeId) this.showEmpty({ fromRoute: true });
    } else if (this.store.activeId) {
      this.showEmpty({ fromRoute: true });
    }
  }

  #setRoute(id, { replace = false } = {}) {
    const want = id ? `#/c/${encodeURIComponent(id)}` : "";
    if (location.hash === want || (!id && !location.hash)) return;
    const url = id ? want : location.pathname + location.search;
    if (replace) history.replaceState(null, "", url);
    else history.pushState(null, "", url);
  }

  /** The connection dropped: every loaded thread remembers where its unbroken history ends, and
   * who is online is unknown until it is back (the list is fetched afresh then). */
  markDisconnected() {
    if (this.store.presence.size) {
      this.store.presence.clear();
      this.store.changed("presence");
    }
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
      this.composer.resendPending(conversationId);
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
    this.composer.resendPending(conversationId);
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

  /** A thread's first page. Here rather than in the thread view because whether it needs a
   * catch-up afterwards depends on the connection having held while it loaded. */
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
  }

  async open(conversationId, { fromRoute = false } = {}) {
    const store = this.store;
    const composer = this.composer;
    if (store.activeId && store.activeId !== conversationId) {
      composer.stopTyping();
      this.socket.send("room.leave", { conversationId: store.activeId });
      composer.cancelEdit();
      composer.keepDraft();
    }
    if (store.activeId !== conversationId) composer.showDraft(conversationId);
    store.activeId = conversationId;
    if (!fromRoute) this.#setRoute(conversationId);
    store.changed("opened", conversationId); // for parts outside the chat view (notifications.js)
    $("app-view").classList.add("conversation-open");
    $("skip-link").hidden = false;
    const unread = store.conversations.get(conversationId)?.unreadCount ?? 0;
    this.threadView.clear();
    this.threadView.beginOpen();
    this.conversationList.render();
    this.threadView.renderHeader();
    this.threadView.renderMessages();
    this.threadView.renderTyping();
    $("empty-view").hidden = true;
    $("conversation-view").hidden = false;
    composer.focus();
    this.socket.send("room.join", { conversationId });
    const thread = store.thread(conversationId);
    try {
      if (thread.loaded) await this.#catchUp(conversationId);
      else await this.#loadNewest(conversationId);
    } catch (error) {
      showAlert(`Could not load messages: ${describeError(error)}`);
    }
    if (store.activeId !== conversationId) return;
    try {
      await this.threadView.openAt(conversationId, unread);
    } catch (error) {
      showAlert(`Could not load messages: ${describeError(error)}`);
    }
  }

  /** No conversation open (the list alone at phone width): leaves the open one's room, so the
   * server stops counting this person as looking at it, and keeps keyboard focus on the list. */
  showEmpty({ fromRoute = false } = {}) {
    const composer = this.composer;
    // (Not for a conversation one was removed from: its room is gone already.)
    if (this.store.activeId && this.store.conversations.has(this.store.activeId)) {
      composer.stopTyping();
      composer.cancelEdit();
      this.socket.send("room.leave", { conversationId: this.store.activeId });
      composer.keepDraft();
    } else {
      composer.dropEdit(); // a conversation one was removed from: its edit and draft go with it
    }
    composer.clear();
    const wasOpen = this.store.activeId;
    this.store.activeId = null;
    if (wasOpen && !fromRoute) this.#setRoute(null, { replace: !this.store.conversations.has(wasOpen) });
    $("skip-link").hidden = true;
    $("jump-latest").hidden = true;
    $("conversation-view").hidden = true;
    $("empty-view").hidden = false;
    $("app-view").classList.remove("conversation-open");
    this.conversationList.render();
    if (wasOpen) {
      const item = this.conversationList.itemFor(wasOpen);
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
        const conversation = store.conversations.get(data.conversationId);
        if (conversation && !this.leaving.delete(data.conversationId)) {
          // Removed by someone else: said in words, not just a group that vanishes.
          showAlert(`You were removed from the group \u201c${store.title(conversation)}\u201d.`, { kind: "info", timeoutMs: 0 });
        }
        this.composer.forgetDraft(data.conversationId);
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
    // Watching: the conversation is open on a visible page with its newest messages in view.
    const watching = store.activeId === message.conversationId && document.visibilityState === "visible" && this.threadView.pinned;
    if (fresh && message.sender.id !== store.me?.id && !watching) conversation.unreadCount = (conversation.unreadCount ?? 0) + 1;
    if (message.sender.id !== store.me?.id) store.setTyping(message.conversationId, message.sender.id, false);
    if (thread?.loaded) {
      store.addMessages(message.conversationId, [message]);
    } else {
      conversation.lastMessage = message;
      store.changed("conversations", message.conversationId);
    }
    if (watching) this.threadView.maybeMarkRead();
  }

  async #refreshConversation(conversationId) {
    try {
      this.store.upsertConversation(await this.api.conversation(conversationId));
    } catch (error) {
      if (error.status === 404) this.store.removeConversation(conversationId);
    }
  }

  // MARK: store changes

  /** Sends each store change to the parts that show it. */
  #onChange({ kind, conversationId }) {
    const active = this.store.activeId;
    if (kind === "conversations" || kind === "presence" || kind === "active") {
      this.conversationList.render();
      if (active && (conversationId === active || kind === "presence")) this.threadView.renderHeader();
      if (kind === "active" && !active) this.showEmpty();
    }
    if ((kind === "messages" || kind === "reads") && conversationId === active) this.threadView.renderMessages();
    if (kind === "typing" && (conversationId === active || conversationId === null)) this.threadView.renderTyping();
  }
}
