// Incoming calls (issue 17): a member not in a call learns of it from `call.state` (`active:
// true`, docs/protocol.md "Calls"). This module rings for it: a banner with Accept and Decline
// (role="alertdialog", named after the caller), a ring tone made with WebAudio (no audio file),
// and a browser notification when the tab is hidden. "Decline" sends `call.decline`; in a DM
// Parley then ends the call for the caller (`call.left` `declined`).
//
// When it rings: a DM whose call has someone in it but not this person (also when the page is
// loaded during the ring); a group whose call starts (not a call that was going on already).
// It stops when the person joins (here or in another tab: `call.state` lists them), declines,
// the call ends or its caller leaves, the connection drops, or after RING_MS.
// A muted conversation (notifications.js) still shows the banner, silently: no tone and no
// browser notification. Keyboard: focus moves to "Accept" unless the person is typing in a
// field; Alt+Shift+A accepts and Alt+Shift+D declines from anywhere; Escape in the banner declines.

import { $, h } from "./dom.js?v=dev";

/** How long a call rings here at most (Parley ends an unanswered DM call after 45 s by default). */
const RING_MS = 45_000;

/** A two-tone ring (440 + 480 Hz, as a phone line's) made with WebAudio: 0.4 s on, 0.2 s off,
 * 0.4 s on, then 2 s of silence, again and again. */
class RingTone {
  constructor() {
    this.context = null;
    this.output = null;
    this.timer = null;
    // Browsers start an AudioContext suspended until the page has had a gesture: the first one
    // unlocks it, so a later ring is heard.
    const unlock = () => this.#context()?.resume().catch(() => {});
    for (const type of ["pointerdown", "keydown"]) document.addEventListener(type, unlock, { capture: true, passive: true });
  }

  #context() {
    if (!this.context) {
      const Context = window.AudioContext ?? window.webkitAudioContext;
      if (!Context) return null;
      this.context = new Context();
    }
    return this.context;
  }

  get playing() {
    return this.timer !== null;
  }

  /** Whether sound is coming out now (the tone is on and the context runs). */
  get audible() {
    return this.playing && this.context?.state === "running";
  }

  start() {
    if (this.timer !== null) return;
    const context = this.#context();
    if (!context) return;
    context.resume().catch(() => {});
    this.output = context.createGain();
    this.output.gain.value = 0.18;
    this.output.connect(context.destination);
    const cycle = () => {
      const output = this.output;
      if (!output) return;
      const start = context.currentTime + 0.05;
      for (const offset of [0, 0.6]) {
        const envelope = context.createGain();
        envelope.gain.setValueAtTime(0, start + offset);
        envelope.gain.linearRampToValueAtTime(1, start + offset + 0.02);
        envelope.gain.setValueAtTime(1, start + offset + 0.38);
        envelope.gain.linearRampToValueAtTime(0, start + offset + 0.4);
        envelope.connect(output);
        for (const frequency of [440, 480]) {
          const oscillator = context.createOscillator();
          oscillator.frequency.value = frequency;
          oscillator.connect(envelope);
          oscillator.start(start + offset);
          oscillator.stop(start + offset + 0.42);
        }
      }
    };
    cycle();
    this.timer = setInterval(cycle, 3_000);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
    try { this.output?.disconnect(); } catch { /* already */ }
    this.output = null;
  }
}

export class Ringer {
  /** `notifier`: notifications.js (mute and permission); `calls`: the CallController. */
  constructor({ socket, store, calls, notifier }) {
    this.socket = socket;
    this.store = store;
    this.calls = calls;
    this.notifier = notifier;
    this.tone = new RingTone();
    this.known = new Map();     // conversationId -> {active, participants} last seen
    this.ringing = new Map();   // conversationId -> {banner, timer, notification, callerId}
    this.quiet = new Set();     // conversations whose current call rings no more (declined, missed, left)
    this.container = h("div", { id: "incoming-calls", class: "incoming-calls" });
    document.body.prepend(this.container);
    // Announced, since a banner that does not take focus is not read out by itself.
    this.announcer = h("p", { class: "visually-hidden", role: "status", "aria-live": "assertive" });
    document.body.append(this.announcer);

    socket.on("call.state", ({ data }) => this.#onState(data.conversationId, data, false));
    socket.addEventListener("offline", () => this.stopAll());
    // The whole conversation list (after sign-in and every reconnect) carries each call's state.
    // (Changes of one conversation come from `call.state`, handled above.)
    store.addEventListener("change", ({ detail }) => {
      if (detail.kind !== "conversations") return;
      if (!detail.conversationId) {
        for (const [id, conversation] of store.conversations) if (conversation.call) this.#onState(id, conversation.call, true);
      }
      for (const id of [...this.ringing.keys()]) if (!store.conversations.has(id)) this.stop(id);
    });
    document.addEventListener("keydown", (event) => {
      if (!event.altKey || !event.shiftKey || this.ringing.size === 0) return;
      const newest = [...this.ringing.keys()].pop();
      if (event.code === "KeyA") { event.preventDefault(); this.accept(newest); }
      if (event.code === "KeyD") { event.preventDefault(); this.decline(newest); }
    });
  }

  #onState(conversationId, state, fromList) {
    const me = this.store.me?.id;
    const previous = this.known.get(conversationId);
    const participants = state.participants ?? [];
    const active = Boolean(state.active) && participants.length > 0;
    this.known.set(conversationId, { active, participants });
    if (!active) {
      this.quiet.delete(conversationId);
      this.stop(conversationId);
      return;
    }
    // This person was in the call and left it: it does not ring them back in.
    if (previous?.participants.includes(me) && !participants.includes(me)) this.quiet.add(conversationId);
    const ring = this.ringing.get(conversationId);
    if (participants.includes(me) || this.calls.conversationId === conversationId) {
      this.stop(conversationId);
      return;
    }
    if (ring) {
      // The one who called went: a group call goes on with others, but it is no longer their ring.
      if (!participants.includes(ring.callerId)) this.stop(conversationId);
      return;
    }
    if (this.quiet.has(conversationId)) return;
    const conversation = this.store.conversations.get(conversationId);
    if (!conversation) return;
    const starting = previous === undefined ? !fromList : !previous.active;
    if (conversation.kind === "dm" ? true : starting) this.start(conversationId, participants[0]);
  }

  start(conversationId, callerId) {
    const store = this.store;
    const conversation = store.conversations.get(conversationId);
    const caller = store.displayName(conversationId, callerId);
    const isDM = conversation?.kind === "dm";
    const text = isDM ? `${caller} is calling you` : `${caller} started a call in ${store.title(conversation)}`;
    const titleId = `incoming-title-${conversationId}`;
    const textId = `incoming-text-${conversationId}`;
    const accept = h("button", { type: "button", class: "primary", "aria-label": `Accept call from ${caller}`,
      onclick: () => this.accept(conversationId) }, "Accept");
    const decline = h("button", { type: "button", class: "danger", "aria-label": `Decline call from ${caller}`,
      onclick: () => this.decline(conversationId) }, "Decline");
    const banner = h("section", {
      class: "incoming-call", role: "alertdialog", "aria-modal": "false", "aria-labelledby": titleId, "aria-describedby": textId,
      dataset: { conversationId },
    },
    h("h2", { id: titleId }, isDM ? "Incoming call" : "Call started"),
    h("p", { id: textId, class: "incoming-text" }, text),
    h("p", { class: "incoming-keys hint" }, "Alt+Shift+A accepts, Alt+Shift+D declines."),
    h("div", { class: "incoming-actions" }, accept, decline));
    banner.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        this.decline(conversationId);
      }
    });
    this.container.append(banner);
    const muted = this.notifier?.isMuted(conversationId) ?? false;
    const ring = { banner, callerId, timer: setTimeout(() => this.#missed(conversationId, caller), RING_MS), notification: null, muted };
    this.ringing.set(conversationId, ring);
    if (!muted) this.tone.start();
    this.announcer.textContent = `${text}. Alt+Shift+A accepts, Alt+Shift+D declines.`;
    if (!muted && document.visibilityState === "hidden") {
      ring.notification = this.notifier?.show(isDM ? `${caller} is calling` : "Call started", {
        body: isDM ? "Incoming call on Parley" : text, tag: `call:${conversationId}`, requireInteraction: true,
        onclick: () => $(`incoming-title-${conversationId}`)?.closest(".incoming-call")?.querySelector("button")?.focus(),
      }) ?? null;
    }
    // Focus goes to the banner, unless the person may be writing (a keystroke meant for the text
    // must not answer a call): in the message box, or in a field with something typed in it. The
    // shortcuts and the announcement cover that case.
    const active = document.activeElement;
    const typing = active && active.getClientRects().length > 0 && (active.tagName === "TEXTAREA" || active.isContentEditable
      || (active.tagName === "INPUT" && !["button", "checkbox", "radio", "submit"].includes(active.type) && active.value !== ""));
    if (!typing && !document.querySelector("dialog[open]")) accept.focus();
  }

  #missed(conversationId, caller) {
    if (!this.ringing.has(conversationId)) return;
    this.quiet.add(conversationId);
    this.stop(conversationId);
    this.announcer.textContent = `Missed call from ${caller}.`;
  }

  /** Stops ringing for one conversation. */
  stop(conversationId) {
    const ring = this.ringing.get(conversationId);
    if (!ring) return;
    this.ringing.delete(conversationId);
    clearTimeout(ring.timer);
    try { ring.notification?.close(); } catch { /* gone */ }
    const hadFocus = ring.banner.contains(document.activeElement);
    ring.banner.remove();
    if (![...this.ringing.values()].some((r) => !r.muted)) this.tone.stop();
    if (hadFocus) {
      const next = this.container.querySelector(".incoming-call button");
      (next ?? $("call-view")?.querySelector("#leave-call:not([hidden])") ?? $("user-search"))?.focus();
    }
  }

  stopAll() {
    for (const id of [...this.ringing.keys()]) this.stop(id);
  }

  async accept(conversationId) {
    if (!this.ringing.has(conversationId)) return;
    this.tone.stop();
    const joined = await this.calls.join(conversationId);
    if (joined) this.stop(conversationId);
    else if (this.ringing.has(conversationId)) this.ringing.get(conversationId).banner.querySelector("button")?.focus();
  }

  decline(conversationId) {
    if (!this.ringing.has(conversationId)) return;
    this.quiet.add(conversationId);
    this.stop(conversationId);
    // A server without `call.decline` answers with an error: the ring is silenced here all the same.
    this.socket.request("call.decline", { conversationId }).catch(() => {});
  }

  snapshot() {
    return { incoming: [...this.ringing.keys()], tone: this.tone.playing, audible: this.tone.audible };
  }
}
