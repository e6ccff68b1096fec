// The `/ws` connection (docs/protocol.md "WebSocket /ws"), kept open for as long as the person is
// signed in: it authenticates with the first frame, and when it drops it reconnects with
// exponential backoff and jitter (0.5 s doubling to 15 s). Each successful `auth.success`
// dispatches "online", after which the app re-joins its room and fetches what it missed.
//
// Frames are `{type, id?, data}`; `request` pairs a frame with the reply carrying its `id`.
// Events are delivered to `on(type, handler)`; "*" sees every frame.

import { ApiError } from "./api.js?v=dev";

const MIN_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 15_000;
const PING_EVERY_MS = 25_000;
const SILENCE_LIMIT_MS = 70_000;

export class SocketError extends Error {
  constructor(code, message, frame = null) {
    super(message);
    this.name = "SocketError";
    this.code = code;
    this.field = frame?.data?.field ?? null;
    this.frame = frame;
  }
}

export class Socket extends EventTarget {
  constructor(api, url = null) {
    super();
    this.api = api;
    this.url = url ?? `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/ws`;
    this.ws = null;
    this.online = false;
    this.stopped = true;
    this.attempts = 0;
    this.retryTimer = null;
    this.pingTimer = null;
    this.lastFrameAt = 0;
    this.listeners = new Map();
    this.pending = new Map();
    this.nextId = 1;
    this.trace = []; // the last frames in and out (type, id, error code), for diagnostics
    window.addEventListener("online", () => { if (!this.stopped && !this.ws) this.#connectNow(); });
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.attempts = 0;
    this.#connectNow();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close(1000, "signed out");
    this.#setOnline(false);
    this.#failPending("closed", "signed out");
  }

  on(type, handler) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(handler);
    return () => this.listeners.get(type)?.delete(handler);
  }

  /** Sends a frame if the socket is authenticated; returns whether it went out. */
  send(type, data = {}, id = undefined) {
    if (!this.online || !this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.#note("out", type, id, data?.conversationId);
    this.ws.send(JSON.stringify(id === undefined ? { type, data } : { type, id, data }));
    return true;
  }

  /** Sends a frame with a fresh `id`; resolves with the reply, rejects with its `error`. */
  request(type, data = {}, { timeoutMs = 10_000 } = {}) {
    const id = `c${this.nextId++}`;
    return new Promise((resolve, reject) => {
      if (!this.online) {
        reject(new SocketError("offline", "Not connected to Parley right now."));
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new SocketError("timeout", `The server did not answer (${type}).`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      if (!this.send(type, data, id)) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new SocketError("offline", "Not connected to Parley right now."));
      }
    });
  }

  async #connectNow() {
    clearTimeout(this.retryTimer);
    if (this.stopped || this.ws) return;
    let token;
    try {
      token = await this.api.accessToken();
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return; // signed out: the app handles "expired"
      this.#scheduleRetry();
      return;
    }
    if (this.stopped || this.ws) return;
    const ws = new WebSocket(this.url);
    this.ws = ws;
    this.lastFrameAt = Date.now();
    ws.addEventListener("open", () => ws.send(JSON.stringify({ type: "auth", id: "auth", data: { token } })));
    ws.addEventListener("message", (event) => { if (ws === this.ws) this.#receive(event.data); });
    ws.addEventListener("close", (event) => { if (ws === this.ws) this.#closed(event); });
  }

  #closed(event) {
    this.ws = null;
    clearInterval(this.pingTimer);
    this.#setOnline(false);
    this.#failPending("closed", "The connection to Parley was lost.");
    this.dispatchEvent(new CustomEvent("closed", { detail: { code: event.code, reason: event.reason } }));
    if (this.stopped) return;
    if (event.code === 4401) {
      // The access token was refused: a refresh gives a new one, or ends the session.
      this.api.refresh().then(() => this.#scheduleRetry(), (error) => {
        if (!(error instanceof ApiError && error.status === 401)) this.#scheduleRetry();
      });
      return;
    }
    if (event.code === 4403) {
      this.dispatchEvent(new CustomEvent("fatal", { detail: { message: "This page's address may not connect to Parley (origin refused)." } }));
      return;
    }
    this.#scheduleRetry();
  }

  #scheduleRetry() {
    if (this.stopped) return;
    const base = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** this.attempts);
    this.attempts += 1;
    const delay = base / 2 + Math.random() * base / 2;
    this.dispatchEvent(new CustomEvent("retrying", { detail: { delay, attempt: this.attempts } }));
    this.retryTimer = setTimeout(() => this.#connectNow(), delay);
  }

  #setOnline(online) {
    if (this.online === online) return;
    this.online = online;
    this.dispatchEvent(new CustomEvent(online ? "online" : "offline"));
  }

  #failPending(code, message) {
    for (const { reject, timer } of this.pending.values()) {
      clearTimeout(timer);
      reject(new SocketError(code, message));
    }
    this.pending.clear();
  }

  #receive(text) {
    this.lastFrameAt = Date.now();
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (!frame || typeof frame.type !== "string") return;
    this.#note("in", frame.type, frame.id, frame.type === "error" ? `${frame.data?.code}: ${frame.data?.message}` : undefined);
    if (frame.id === "auth") {
      if (frame.type === "auth.success") {
        this.attempts = 0;
        this.user = frame.data?.user ?? null;
        this.pingTimer = setInterval(() => this.#heartbeat(), PING_EVERY_MS);
        this.#setOnline(true);
      }
      // an `error` here is followed by close 4401, handled in #closed
      return;
    }
    const waiter = frame.id === undefined ? undefined : this.pending.get(frame.id);
    if (waiter) {
      this.pending.delete(frame.id);
      clearTimeout(waiter.timer);
      if (frame.type === "error") {
        waiter.reject(new SocketError(frame.data?.code ?? "error", frame.data?.message ?? "The server refused that.", frame));
      } else {
        waiter.resolve(frame);
      }
      if (frame.type === "error") return; // the caller shows it
    }
    for (const key of [frame.type, "*"]) {
      for (const handler of this.listeners.get(key) ?? []) {
        try {
          handler(frame);
        } catch (error) {
          console.error(`handling ${frame.type} failed`, error);
        }
      }
    }
  }

  #note(direction, type, id, detail) {
    if (type === "ping" || type === "pong") return;
    this.trace.push({ at: Math.round(performance.now()), direction, type, id, detail });
    if (this.trace.length > 300) this.trace.splice(0, this.trace.length - 300);
  }

  #heartbeat() {
    if (!this.ws) return;
    if (Date.now() - this.lastFrameAt > SILENCE_LIMIT_MS) {
      // Nothing heard (not even a pong) for too long: the connection is dead without a close.
      const ws = this.ws;
      this.#closed({ code: 1006, reason: "silent" });
      ws.close(4000, "silent");
      return;
    }
    this.send("ping", {});
  }
}
