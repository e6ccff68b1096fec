// Client state: conversations, the loaded messages of each, pending (optimistic) sends,
// presence, typing and read markers. Views listen for "change" events ({kind, conversationId})
// and redraw what they show. Message ids sort in send order within a conversation
// (docs/protocol.md "Conventions"), so plain string comparison orders them.

const TYPING_FALLBACK_MS = 8_000; // the server sends typing:false after 6 s; this only guards against a lost one

export function compareIds(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

export class Thread {
  constructor() {
    this.messages = new Map();  // id -> message
    this.pending = new Map();   // clientMsgId -> {clientMsgId, content, state: "sending"|"failed", error, createdAt}
    this.hasOlder = false;
    this.loaded = false;        // the newest page has been fetched
    this.loadingOlder = false;
    // The newest id held when the connection dropped: the catch-up after a reconnect starts here,
    // not at the newest id held by then (live events and REST sends may have moved that past a gap).
    this.resumeAfter = null;
  }

  get newestId() {
    let newest = null;
    for (const id of this.messages.keys()) if (newest === null || id > newest) newest = id;
    return newest;
  }

  get oldestId() {
    let oldest = null;
    for (const id of this.messages.keys()) if (oldest === null || id < oldest) oldest = id;
    return oldest;
  }

  ordered() {
    return [...this.messages.values()].sort((a, b) => compareIds(a.id, b.id));
  }
}

export class Store extends EventTarget {
  constructor() {
    super();
    this.reset();
  }

  reset() {
    this.me = null;
    this.conversations = new Map();
    this.presence = new Map();
    this.presenceEvents = 0;          // live presence events so far
    this.presenceEventSeq = new Map(); // userId -> number of the last live event about them
    this.threads = new Map();
    this.knownNames = new Map();      // userId -> display name, kept for people who have left
    this.typing = new Map();
    this.reads = new Map();
    this.activeId = null;
    this.callConversationId = null;
  }

  changed(kind, conversationId = null, extra = {}) {
    this.dispatchEvent(new CustomEvent("change", { detail: { kind, conversationId, ...extra } }));
  }

  // MARK: conversations

  /** The whole list, fetched after every (re)connect: its members' presence replaces what was
   * held, since presence events missed while disconnected are not sent again; but not for a
   * user a live event (numbered past `presenceSince`, when the fetch began) spoke of since. */
  setConversations(list, { presenceSince = Infinity } = {}) {
    const fresh = new Map();
    for (const conversation of list) {
      fresh.set(conversation.id, conversation);
      this.#learnPresence(conversation, { replaceUnless: (id) => (this.presenceEventSeq.get(id) ?? 0) > presenceSince });
    }
    this.conversations = fresh;
    for (const id of [...this.threads.keys()]) if (!fresh.has(id)) this.threads.delete(id);
    this.changed("conversations");
  }

  upsertConversation(conversation) {
    const old = this.conversations.get(conversation.id);
    // A conversation object from an event may not carry this user's unread count; keep ours.
    if (old && conversation.unreadCount === undefined) conversation.unreadCount = old.unreadCount;
    if (old && !conversation.lastMessage && old.lastMessage) conversation.lastMessage = old.lastMessage;
    this.conversations.set(conversation.id, conversation);
    this.#learnPresence(conversation);
    this.changed("conversations", conversation.id);
  }

  removeConversation(id) {
    this.conversations.delete(id);
    this.threads.delete(id);
    if (this.activeId === id) this.activeId = null;
    this.changed("conversations", id);
    this.changed("active", null);
  }

  /** Presence from conversation members: for users not known yet, or, with `replaceUnless`, for
   * every user it does not exclude. */
  #learnPresence(conversation, { replaceUnless = null } = {}) {
    for (const member of conversation.members ?? []) {
      const id = member.user?.id;
      if (id && member.user.displayName) this.knownNames.set(id, member.user.displayName);
      const take = !this.presence.has(id) || (replaceUnless !== null && !replaceUnless(id));
      if (member.user && typeof member.user.online === "boolean" && take) {
        this.presence.set(member.user.id, member.user.online);
      }
    }
  }

  orderedConversations() {
    const activity = (c) => c.lastMessage?.createdAt ?? c.createdAt ?? "";
    return [...this.conversations.values()].sort((a, b) => (activity(a) < activity(b) ? 1 : activity(a) > activity(b) ? -1 : 0));
  }

  otherMembers(conversation) {
    return (conversation?.members ?? []).filter((m) => m.user?.id !== this.me?.id);
  }

  title(conversation) {
    if (!conversation) return "";
    if (conversation.kind === "group") return conversation.title || "Untitled group";
    const other = this.otherMembers(conversation)[0];
    return other?.user?.displayName ?? "Direct message";
  }

  displayName(conversationId, userId) {
    if (userId === this.me?.id) return this.me.displayName;
    const member = this.conversations.get(conversationId)?.members?.find((m) => m.user?.id === userId);
    if (member) return member.user.displayName;
    for (const conversation of this.conversations.values()) {
      const found = conversation.members?.find((m) => m.user?.id === userId);
      if (found) return found.user.displayName;
    }
    // A former member: the name they had here, or on a message of theirs.
    if (this.knownNames.has(userId)) return this.knownNames.get(userId);
    for (const message of this.threads.get(conversationId)?.messages.values() ?? []) {
      if (message.sender?.id === userId && message.sender.displayName) return message.sender.displayName;
    }
    return "A former member";
  }

  myRole(conversation) {
    return conversation?.members?.find((m) => m.user?.id === this.me?.id)?.role ?? null;
  }

  setPresence(userId, online) {
    this.presenceEvents += 1;
    this.presenceEventSeq.set(userId, this.presenceEvents);
    this.presence.set(userId, online);
    this.changed("presence");
  }

  setCall(conversationId, call) {
    const conversation = this.conversations.get(conversationId);
    if (!conversation) return;
    conversation.call = call;
    this.changed("conversations", conversationId);
  }

  // MARK: messages

  thread(conversationId) {
    if (!this.threads.has(conversationId)) this.threads.set(conversationId, new Thread());
    return this.threads.get(conversationId);
  }

  /** Adds or replaces messages by id; a confirmed message retires the pending send with its clientMsgId. */
  addMessages(conversationId, messages) {
    const thread = this.thread(conversationId);
    for (const message of messages) {
      if (message.clientMsgId && message.sender?.id === this.me?.id) thread.pending.delete(message.clientMsgId);
      thread.messages.set(message.id, message);
    }
    const conversation = this.conversations.get(conversationId);
    const newest = messages.reduce((best, m) => (!best || m.id > best.id ? m : best), null);
    if (conversation && newest && (!conversation.lastMessage || newest.id >= conversation.lastMessage.id)) {
      conversation.lastMessage = newest;
      this.changed("conversations", conversationId);
    }
    this.changed("messages", conversationId);
  }

  updateMessage(message) {
    const thread = this.threads.get(message.conversationId);
    if (thread && thread.messages.has(message.id)) thread.messages.set(message.id, message);
    const conversation = this.conversations.get(message.conversationId);
    if (conversation?.lastMessage?.id === message.id) {
      conversation.lastMessage = message;
      this.changed("conversations", message.conversationId);
    }
    this.changed("messages", message.conversationId);
  }

  markDeleted(conversationId, messageId) {
    const thread = this.threads.get(conversationId);
    const message = thread?.messages.get(messageId);
    const deletedAt = new Date().toISOString();
    if (message) thread.messages.set(messageId, { ...message, content: "", deletedAt: message.deletedAt ?? deletedAt });
    const conversation = this.conversations.get(conversationId);
    if (conversation?.lastMessage?.id === messageId) {
      conversation.lastMessage = { ...conversation.lastMessage, content: "", deletedAt };
      this.changed("conversations", conversationId);
    }
    this.changed("messages", conversationId);
  }

  addPending(conversationId, clientMsgId, content) {
    this.thread(conversationId).pending.set(clientMsgId, { clientMsgId, content, state: "sending", error: null, createdAt: new Date().toISOString() });
    this.changed("messages", conversationId);
  }

  /** `retryable`: the send failed for want of a connection (or a server that was down), so it is
   * sent again by itself after the next reconnect; other failures wait for the person's Retry. */
  setPendingState(conversationId, clientMsgId, state, error = null, retryable = false) {
    const pending = this.threads.get(conversationId)?.pending.get(clientMsgId);
    if (!pending) return;
    pending.state = state;
    pending.error = error;
    pending.retryable = retryable;
    this.changed("messages", conversationId);
  }

  // MARK: typing and reads

  setTyping(conversationId, userId, typing) {
    if (!this.typing.has(conversationId)) this.typing.set(conversationId, new Map());
    const people = this.typing.get(conversationId);
    clearTimeout(people.get(userId));
    if (typing) {
      people.set(userId, setTimeout(() => this.setTyping(conversationId, userId, false), TYPING_FALLBACK_MS));
    } else {
      people.delete(userId);
    }
    this.changed("typing", conversationId);
  }

  clearTyping() {
    for (const people of this.typing.values()) for (const timer of people.values()) clearTimeout(timer);
    this.typing.clear();
    this.changed("typing", null);
  }

  typingUsers(conversationId) {
    return [...(this.typing.get(conversationId)?.keys() ?? [])];
  }

  setRead(conversationId, userId, messageId) {
    if (!this.reads.has(conversationId)) this.reads.set(conversationId, new Map());
    const reads = this.reads.get(conversationId);
    const old = reads.get(userId);
    if (old && old >= messageId) return;
    reads.set(userId, messageId);
    if (userId === this.me?.id) {
      const conversation = this.conversations.get(conversationId);
      if (conversation && (!conversation.lastMessage || messageId >= conversation.lastMessage.id)) {
        conversation.unreadCount = 0;
        this.changed("conversations", conversationId);
      }
    }
    this.changed("reads", conversationId);
  }
}
