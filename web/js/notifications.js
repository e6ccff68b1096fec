// Telling the person about messages in conversations they are not looking at (issue 17):
// - the tab's title carries the unread count: "(3) Parley";
// - a browser notification for each new message from someone else in a conversation that is not
//   open, or when the tab is hidden (once the person has allowed notifications: profile.js asks
//   the browser, on their click, since a permission prompt needs a gesture); clicking it opens
//   the conversation;
// - a per-conversation mute ("Mute conversation" in its header), kept in localStorage per user
//   (`parley.muted.<userId>`: a JSON list of conversation ids). A muted conversation neither
//   notifies nor counts in the title, and its incoming calls show their banner silently (no ring
//   tone, no notification); its unread badge in the list stays.

import { $ } from "./dom.js?v=dev";
import { messagePreview } from "./conversation-list.js?v=dev";

const BASE_TITLE = "Parley";

export class Notifier {
  /** `open(conversationId)` opens a conversation (a notification's click). */
  constructor({ socket, store, open }) {
    this.store = store;
    this.open = open;
    this.muted = new Set();
    this.mutedFor = null;
    socket.on("message.new", ({ data }) => this.#onMessage(data.message));
    store.addEventListener("change", ({ detail }) => {
      if (["conversations", "reads", "opened", "unread", "messages"].includes(detail.kind)) this.updateTitle();
      if (detail.kind === "conversations" || detail.kind === "opened") this.renderMuteButton();
    });
    document.addEventListener("visibilitychange", () => this.updateTitle());
    $("mute-button")?.addEventListener("click", () => {
      const id = this.store.activeId;
      if (id) this.setMuted(id, !this.isMuted(id));
    });
  }

  // MARK: mute

  #key() {
    return `parley.muted.${this.store.me?.id ?? ""}`;
  }

  #load() {
    const me = this.store.me?.id ?? null;
    if (this.mutedFor === me) return;
    this.mutedFor = me;
    this.muted = new Set();
    if (!me) return;
    try {
      const list = JSON.parse(localStorage.getItem(this.#key()) ?? "[]");
      if (Array.isArray(list)) for (const id of list) if (typeof id === "string") this.muted.add(id);
    } catch { /* a damaged entry is the same as none */ }
  }

  isMuted(conversationId) {
    this.#load();
    return this.muted.has(conversationId);
  }

  setMuted(conversationId, muted) {
    this.#load();
    if (muted) this.muted.add(conversationId);
    else this.muted.delete(conversationId);
    try {
      localStorage.setItem(this.#key(), JSON.stringify([...this.muted]));
    } catch { /* storage full or off: the mute lasts for this page */ }
    this.renderMuteButton();
    this.updateTitle();
  }

  renderMuteButton() {
    const button = $("mute-button");
    const id = this.store.activeId;
    if (!button || !id) return;
    const muted = this.isMuted(id);
    button.setAttribute("aria-pressed", String(muted));
    button.textContent = muted ? "Unmute conversation" : "Mute conversation";
    button.title = muted ? "Muted: no notifications or ring tone from this conversation" : "";
  }

  // MARK: the title

  /** Unread messages of conversations that are not muted. */
  unreadTotal() {
    let total = 0;
    for (const [id, conversation] of this.store.conversations) if (!this.isMuted(id)) total += conversation.unreadCount ?? 0;
    return total;
  }

  updateTitle() {
    const total = this.store.me ? this.unreadTotal() : 0;
    const title = total > 0 ? `(${total > 99 ? "99+" : total}) ${BASE_TITLE}` : BASE_TITLE;
    if (document.title !== title) document.title = title;
  }

  // MARK: browser notifications

  /** Whether the person allowed notifications here (the browser's permission and their choice). */
  get enabled() {
    return "Notification" in window && Notification.permission === "granted"
      && localStorage.getItem(`parley.notify.${this.store.me?.id ?? ""}`) !== "off";
  }

  /** Turns notifications on (asking the browser, which needs a click) or off; returns the result. */
  async setEnabled(on) {
    const key = `parley.notify.${this.store.me?.id ?? ""}`;
    if (!on) {
      localStorage.setItem(key, "off");
      return false;
    }
    localStorage.removeItem(key);
    if (!("Notification" in window)) return false;
    if (Notification.permission === "default") await Notification.requestPermission();
    return this.enabled;
  }

  /** One notification, if allowed: `onclick` runs after the page is brought forward. */
  show(title, { body, tag, onclick, requireInteraction = false }) {
    if (!this.enabled) return null;
    try {
      const notification = new Notification(title, { body, tag, requireInteraction });
      notification.onclick = () => {
        window.focus();
        notification.close();
        onclick?.();
      };
      return notification;
    } catch {
      return null; // e.g. a browser that allows them only from a service worker
    }
  }

  #onMessage(message) {
    this.updateTitle(); // the chat view has counted it by now (it listens first)
    const store = this.store;
    if (!message || message.sender?.id === store.me?.id) return;
    if (message.kind === "system") return; // a member added, a new title: no reason to interrupt
    const conversationId = message.conversationId;
    const inView = store.activeId === conversationId && document.visibilityState === "visible";
    if (inView || this.isMuted(conversationId)) return;
    const conversation = store.conversations.get(conversationId);
    const sender = message.sender?.displayName ?? "Someone";
    const title = conversation?.kind === "group" ? `${sender} in ${store.title(conversation)}` : sender;
    const text = messagePreview(message);
    this.show(title, {
      body: text.length > 140 ? `${text.slice(0, 139)}\u2026` : text,
      tag: `message:${conversationId}`,
      onclick: () => this.open(conversationId),
    });
  }
}
