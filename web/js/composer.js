// The message box: per-conversation drafts, sending (shown at once as pending, confirmed or
// failed later, retried by hand or after a reconnect) with the files of the attachment tray,
// editing and deleting one's own messages, and the typing signal the box gives off.

import { describeError } from "./api.js?v=dev";
import { $, showAlert, newClientMsgId } from "./dom.js?v=dev";
import { MAX_MESSAGE_CHARS, characterCount } from "./format.js?v=dev";
import { AttachmentTray } from "./attachment-tray.js?v=dev";

/** A typing.start goes out at most this often while typing goes on (the server ends it by itself
 * after a pause, so it is repeated, not held). */
const TYPING_REPEAT_MS = 3_000;
/** The counter shows from this many characters on. */
const COUNTER_FROM = MAX_MESSAGE_CHARS - 500;
/** Drafts are kept in localStorage under this prefix and the user's id, so a reload keeps them. */
const DRAFTS_KEY = "parley.drafts.";

export class Composer {
  /** `redraw()` redraws the open thread (an edit starting or ending marks its message);
   * `revealNewest()` redraws it scrolled to the bottom, where a new send shows. */
  constructor({ api, socket, store, redraw, revealNewest }) {
    this.api = api;
    this.socket = socket;
    this.store = store;
    this.redraw = redraw;
    this.revealNewest = revealNewest;
    this.editing = null;           // {conversationId, messageId, draft}
    // Unsent text per conversation: the box holds only the open conversation's own, so text
    // typed in one conversation is never sent to another by the next Enter.
    this.drafts = new Map();       // conversationId -> text
    this.draftsUser = null;        // whose drafts `drafts` holds
    this.saveTimer = null;
    this.lastTypingSent = 0;
    // Files waiting to go with the next message; Send waits for their uploads.
    this.tray = new AttachmentTray({ api, store, onChange: () => this.#updateSendState() });
    addEventListener("pagehide", () => this.#saveDrafts());
    this.#bindControls();
  }

  focus() {
    $("composer-input").focus();
  }

  // MARK: drafts

  /** Puts a conversation's own draft (or nothing) in the box. */
  showDraft(conversationId) {
    this.#loadDrafts();
    $("composer-input").value = this.drafts.get(conversationId) ?? "";
    this.tray.show(conversationId);
    this.#updateCounter();
    this.#updateSendState();
  }

  clear() {
    $("composer-input").value = "";
    this.tray.show(null);
    this.#updateCounter();
  }

  /** The signed-in person's drafts, read from localStorage once per user. */
  #loadDrafts() {
    const user = this.store.me?.id ?? null;
    if (this.draftsUser === user) return;
    this.draftsUser = user;
    this.drafts.clear();
    if (!user) return;
    try {
      const saved = JSON.parse(localStorage.getItem(DRAFTS_KEY + user) ?? "{}");
      for (const [id, text] of Object.entries(saved)) if (typeof text === "string" && text) this.drafts.set(id, text);
    } catch {
      // Storage unavailable or damaged: drafts then last as long as the page.
    }
  }

  #saveDrafts() {
    clearTimeout(this.saveTimer);
    this.saveTimer = null;
    const user = this.store.me?.id;
    if (!user || this.draftsUser !== user) return;
    try {
      if (this.drafts.size) localStorage.setItem(DRAFTS_KEY + user, JSON.stringify(Object.fromEntries(this.drafts)));
      else localStorage.removeItem(DRAFTS_KEY + user);
    } catch {
      // Full or unavailable storage: the drafts stay in memory.
    }
  }

  #saveSoon() {
    if (!this.saveTimer) this.saveTimer = setTimeout(() => this.#saveDrafts(), 300);
  }

  /** Signing out on purpose: the person's drafts leave this browser too. */
  forgetAllDrafts() {
    const user = this.store.me?.id ?? this.draftsUser;
    this.drafts.clear();
    try { if (user) localStorage.removeItem(DRAFTS_KEY + user); } catch { /* nothing kept */ }
    this.tray.discardAll();
  }

  /** The length counter near the limit, and the box flagged when over it. */
  #updateCounter() {
    const input = $("composer-input");
    const counter = $("char-counter");
    const count = input.value.length >= COUNTER_FROM ? characterCount(input.value) : 0;
    const over = count > MAX_MESSAGE_CHARS;
    let text = "";
    if (over) text = `${(count - MAX_MESSAGE_CHARS).toLocaleString()} characters over the ${MAX_MESSAGE_CHARS.toLocaleString()} limit`;
    else if (count >= COUNTER_FROM) text = `${(MAX_MESSAGE_CHARS - count).toLocaleString()} characters left`;
    if (counter.textContent !== text) counter.textContent = text;
    counter.classList.toggle("over", over);
    if (over) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
    return { count, over };
  }

  /** Files the box's text as the open conversation's draft (not while editing: that text is the
   * message's, and the draft waits in `editing.draft`). */
  keepDraft() {
    const id = this.store.activeId;
    if (!id || this.editing) return;
    this.#loadDrafts();
    const text = $("composer-input").value;
    if (text) this.drafts.set(id, text);
    else this.drafts.delete(id);
    this.#saveSoon();
  }

  /** A conversation one was removed from: its draft is never shown again. */
  forgetDraft(conversationId) {
    this.drafts.delete(conversationId);
    this.#saveSoon();
    this.tray.discard(conversationId);
  }

  /** Send is marked unavailable (not disabled: it stays focusable and says why when pressed)
   * while the open conversation's files are uploading or one failed. */
  #updateSendState() {
    const { uploading, failed } = this.tray.state(this.store.activeId);
    const button = $("send-button");
    const blocked = !this.editing && (uploading > 0 || failed > 0);
    if (blocked) button.setAttribute("aria-disabled", "true");
    else button.removeAttribute("aria-disabled");
  }

  // MARK: sending

  /** Sends `content` with the files of the open conversation's tray (all uploaded: the box
   * checks), which leave the tray for the pending message. */
  async send(content) {
    const conversationId = this.store.activeId;
    if (!conversationId) return;
    const clientMsgId = newClientMsgId();
    const files = this.tray.take(conversationId);
    this.store.addPending(conversationId, clientMsgId, content);
    const pending = this.store.thread(conversationId).pending.get(clientMsgId);
    if (pending && files.length) {
      // Shown at once from the sender's own files (thread-view.js seeds its cache with `local`).
      pending.attachments = files.map((f) => f.attachment);
      pending.local = files;
    }
    this.revealNewest();
    await this.#deliver(conversationId, clientMsgId, content, files.map((f) => f.attachment.id));
  }

  async #deliver(conversationId, clientMsgId, content, attachmentIds = []) {
    const store = this.store;
    try {
      let message;
      const frame = { conversationId, content, clientMsgId };
      if (attachmentIds.length) frame.attachmentIds = attachmentIds;
      if (this.socket.online) {
        try {
          message = (await this.socket.request("message.send", frame)).data.message;
        } catch (error) {
          // The socket dropped or timed out mid-send: the server may have stored it, and the same
          // clientMsgId over REST returns that message rather than a second one.
          if (!["closed", "offline", "timeout"].includes(error.code)) throw error;
          message = await this.api.sendMessage(conversationId, content, clientMsgId, attachmentIds);
        }
      } else {
        message = await this.api.sendMessage(conversationId, content, clientMsgId, attachmentIds);
      }
      store.addMessages(conversationId, [message]);
    } catch (error) {
      const unreachable = error.status === 0 || error.status >= 500 || ["closed", "offline", "timeout"].includes(error.code);
      store.setPendingState(conversationId, clientMsgId, "failed", describeError(error), unreachable);
      // For want of a connection it goes by itself after the reconnect (the message says so);
      // other refusals need the person.
      if (!unreachable) showAlert(`Your message was not sent: ${describeError(error)}`);
    }
  }

  retry(clientMsgId, conversationId = this.store.activeId) {
    const pending = this.store.thread(conversationId).pending.get(clientMsgId);
    if (!pending) return;
    this.store.setPendingState(conversationId, clientMsgId, "sending");
    this.#deliver(conversationId, clientMsgId, pending.content, (pending.attachments ?? []).map((a) => a.id));
  }

  /** After a catch-up: sends that failed for want of a connection go again by themselves (with
   * their clientMsgId, so one the server did store is not stored twice). */
  resendPending(conversationId) {
    for (const pending of this.store.thread(conversationId).pending.values()) {
      if (pending.state === "failed" && pending.retryable) this.retry(pending.clientMsgId, conversationId);
    }
  }

  // MARK: editing and deleting

  startEdit(message) {
    const draft = this.editing ? this.editing.draft : $("composer-input").value;
    this.editing = { conversationId: message.conversationId, messageId: message.id, draft };
    $("edit-banner").hidden = false;
    const input = $("composer-input");
    input.value = message.content;
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
    $("send-button").textContent = "Save";
    this.#updateCounter();
    this.#updateSendState();
    this.redraw();
  }

  cancelEdit() {
    if (!this.editing) return;
    const { draft } = this.editing;
    this.editing = null;
    $("edit-banner").hidden = true;
    $("composer-input").value = draft ?? ""; // the unsent text the edit had set aside
    $("send-button").textContent = "Send";
    this.#updateCounter();
    this.#updateSendState();
    this.redraw();
  }

  /** The edit of a conversation one was removed from: dropped with its set-aside draft, and
   * nothing redrawn, since that conversation is no longer shown. */
  dropEdit() {
    this.editing = null;
    $("edit-banner").hidden = true;
    $("send-button").textContent = "Send";
    this.#updateSendState();
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

  #editedHasFiles() {
    const { conversationId, messageId } = this.editing;
    return (this.store.threads.get(conversationId)?.messages.get(messageId)?.attachments ?? []).length > 0;
  }

  /** The newest message of one's own in the open conversation that can still be edited. */
  #lastOwnMessage() {
    const thread = this.store.threads.get(this.store.activeId);
    if (!thread) return null;
    const messages = thread.ordered();
    for (let i = messages.length - 1; i >= 0; i -= 1) {
      const message = messages[i];
      if (message.sender?.id === this.store.me?.id && !message.deletedAt) return message;
    }
    return null;
  }

  // MARK: typing

  #typed() {
    const id = this.store.activeId;
    if (!id || this.editing) return;
    const value = $("composer-input").value;
    if (!value.trim()) {
      this.stopTyping();
      return;
    }
    const now = Date.now();
    if (now - this.lastTypingSent > TYPING_REPEAT_MS) {
      this.lastTypingSent = now;
      this.socket.send("typing.start", { conversationId: id });
    }
  }

  /** Ends the typing signal in the open conversation, if one was given. */
  stopTyping() {
    if (!this.lastTypingSent || !this.store.activeId) return;
    this.lastTypingSent = 0;
    this.socket.send("typing.stop", { conversationId: this.store.activeId });
  }

  // MARK: controls

  #bindControls() {
    const input = $("composer-input");
    $("composer").addEventListener("submit", (event) => {
      event.preventDefault();
      let content = input.value;
      const files = this.tray.state(this.store.activeId);
      if (!this.editing && files.uploading) {
        showAlert(`Wait for ${files.uploading === 1 ? "the file" : "the files"} to finish uploading, then send.`, { kind: "info", timeoutMs: 5_000 });
        return;
      }
      if (!this.editing && files.failed) {
        showAlert("A file could not be uploaded: retry it or remove it, then send.", { kind: "info", timeoutMs: 6_000 });
        return;
      }
      // Files alone make a message; so does a caption taken off a message that has files.
      const withFiles = this.editing ? this.#editedHasFiles() : files.ready > 0;
      if (!content.trim() && !withFiles) {
        showAlert("A message cannot be empty.", { kind: "info", timeoutMs: 4_000 });
        return;
      }
      if (!content.trim()) content = "";
      const { count, over } = this.#updateCounter();
      if (over) {
        // Refused whole, never cut: the text stays in the box to be shortened or split.
        showAlert(`This message is ${(count - MAX_MESSAGE_CHARS).toLocaleString()} characters over the ${MAX_MESSAGE_CHARS.toLocaleString()} limit. Shorten it or split it into several messages.`,
          { timeoutMs: 8_000 });
        input.focus();
        return;
      }
      if (this.editing) {
        this.#saveEdit(content);
        return;
      }
      input.value = "";
      this.drafts.delete(this.store.activeId);
      this.#saveSoon();
      this.#updateCounter();
      this.lastTypingSent = 0; // the server ends typing on send
      this.send(content);
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        $("composer").requestSubmit();
      } else if (event.key === "Escape" && this.editing) {
        this.cancelEdit();
      } else if (event.key === "ArrowUp" && !input.value && !this.editing && !event.altKey && !event.ctrlKey && !event.metaKey && !event.shiftKey) {
        const last = this.#lastOwnMessage();
        if (last) {
          event.preventDefault();
          this.startEdit(last);
        }
      }
    });
    input.addEventListener("input", () => {
      this.#updateCounter();
      const id = this.store.activeId;
      if (id && !this.editing) {
        this.#loadDrafts();
        if (input.value) this.drafts.set(id, input.value);
        else this.drafts.delete(id);
        this.#saveSoon();
      }
      this.#typed();
    });
    input.addEventListener("blur", () => this.stopTyping());
    $("cancel-edit").addEventListener("click", () => this.cancelEdit());
  }
}
