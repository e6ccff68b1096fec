// REST client for Parley (docs/protocol.md "REST resources") with the session's tokens.
//
// The session ({user, accessToken, refreshToken, expiresAt}) lives in localStorage so a reload
// keeps the person signed in. Access tokens last 15 minutes (`expiresIn`); the client refreshes
// a minute before expiry and after any 401. Refresh tokens are single use: a refresh that is
// refused (401 `token_reused` or `unauthorized`) ends the session, and the app returns to the
// login screen. Only one refresh runs at a time, across every tab of the browser (a Web Lock),
// so concurrent 401s share it and a tab that waited takes the pair another tab stored. A
// refresh whose response is lost to the network is retried with the same token, which the
// server accepts within its reuse grace (REFRESH_REUSE_GRACE, 10 s by default).

const STORAGE_KEY = "parley.session";
const REFRESH_MARGIN_MS = 60_000;
const REFRESH_LOCK = "parley.refresh";
// Retries of a refresh whose answer was lost must reach the server within its reuse grace
// (REFRESH_REUSE_GRACE, 10 s by default), or the retry counts as reuse and ends the login:
// each attempt gives up after 2.5 s, so the third is sent at most 8 s after the first.
const REFRESH_RETRY_DELAYS_MS = [1_000, 2_000];
const REFRESH_ATTEMPT_TIMEOUT_MS = 2_500;

/** A failed REST call, carrying the server's error code and human message. */
export class ApiError extends Error {
  constructor(status, code, message, field = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

/** Words for a person from an error's code when the server's own message is missing. */
export function describeError(error) {
  if (error instanceof ApiError || error?.code) {
    const message = error.message && error.message !== error.code ? error.message : null;
    const words = {
      network: "Parley cannot be reached. Check your connection.",
      rate_limited: "Too many attempts. Please wait a moment and try again.",
      limit_reached: "A limit of this server is reached.",
      invalid_credentials: "That email and password do not match.",
      registration_closed: "This server does not take new accounts without a valid invitation.",
      account_deactivated: "This account has been deactivated by an administrator.",
      conflict: "That conflicts with the current state; reload and try again.",
      email_taken: "An account with this email already exists.",
      not_found: "That conversation or message no longer exists.",
      forbidden: "You are not allowed to do that.",
      call_full: "This call is full.",
      calls_unavailable: "Calls are not available on this server.",
      not_in_call: "You are not in this call any more.",
      internal: "Something went wrong on the server. Please try again.",
      timeout: "The server did not answer in time.",
      payload_too_large: "That file is larger than this server accepts.",
    };
    return message ?? words[error.code] ?? `Error: ${error.code}`;
  }
  if (error?.name === "NotAllowedError") return "Permission to use the camera or microphone was denied.";
  if (error?.name === "NotFoundError") return "No camera or microphone was found.";
  return error?.message || String(error);
}

export class Api extends EventTarget {
  constructor(base = "") {
    super();
    this.base = base;
    this.session = this.#load();
    this.refreshing = null;
    this.refreshTimer = null;
    // Another tab of the same browser may rotate the tokens: take its pair rather than
    // presenting a spent refresh token (which would revoke the login).
    window.addEventListener("storage", (event) => {
      if (event.key !== STORAGE_KEY) return;
      const session = this.#load();
      if (!session && this.session) {
        this.session = null;
        clearTimeout(this.refreshTimer);
        this.dispatchEvent(new CustomEvent("expired", { detail: { reason: "logged-out-elsewhere" } }));
      } else if (session) {
        this.session = session;
        this.#scheduleRefresh();
      }
    });
    if (this.session) this.#scheduleRefresh();
  }

  get user() { return this.session?.user ?? null; }
  get signedIn() { return this.session !== null; }

  #load() {
    try {
      const value = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? "null");
      if (value && typeof value.accessToken === "string" && typeof value.refreshToken === "string") return value;
    } catch { /* a damaged entry is the same as none */ }
    return null;
  }

  #store(body) {
    this.session = {
      user: body.user ?? this.session?.user ?? null,
      accessToken: body.accessToken,
      refreshToken: body.refreshToken,
      expiresAt: Date.now() + (Number(body.expiresIn) || 900) * 1000,
    };
    localStorage.setItem(STORAGE_KEY, JSON.stringify(this.session));
    this.#scheduleRefresh();
  }

  setUser(user) {
    if (!this.session) return;
    this.session.user = user;
    localStorage.setItem(STORAGE_KEY, JSON.stringify(this.session));
  }

  #clear() {
    clearTimeout(this.refreshTimer);
    this.session = null;
    localStorage.removeItem(STORAGE_KEY);
  }

  #scheduleRefresh() {
    clearTimeout(this.refreshTimer);
    if (!this.session) return;
    const delay = Math.max(1_000, this.session.expiresAt - Date.now() - REFRESH_MARGIN_MS);
    this.refreshTimer = setTimeout(() => this.refresh().catch(() => {
      // A network failure: try again shortly; a refused refresh has already ended the session.
      if (this.session) this.refreshTimer = setTimeout(() => this.#scheduleRefresh(), 5_000);
    }), delay);
  }

  /** Rotates the token pair once, however many callers (and tabs) ask at the same time. */
  refresh() {
    if (!this.refreshing) {
      const locked = navigator.locks?.request
        ? navigator.locks.request(REFRESH_LOCK, () => this.#doRefresh())
        : this.#doRefresh();
      this.refreshing = locked.finally(() => { this.refreshing = null; });
    }
    return this.refreshing;
  }

  async #doRefresh() {
    // Under the lock: a pair another tab stored meanwhile replaces ours, whose refresh token
    // is now spent (presenting it again would be reuse).
    const stored = this.#load();
    if (stored && this.session && stored.refreshToken !== this.session.refreshToken) {
      this.session = stored;
      if (stored.expiresAt - Date.now() > REFRESH_MARGIN_MS) {
        this.#scheduleRefresh();
        this.dispatchEvent(new CustomEvent("refreshed"));
        return;
      }
    }
    if (!this.session) throw new ApiError(401, "unauthorized", "You are signed out.");
    const presented = this.session.refreshToken;
    let response;
    for (let attempt = 0; ; attempt += 1) {
      try {
        response = await fetch(`${this.base}/auth/refresh`, {
          method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ refreshToken: presented }),
          signal: AbortSignal.timeout(REFRESH_ATTEMPT_TIMEOUT_MS),
        });
        break;
      } catch {
        // The server may have rotated and the answer been lost: the same token again, soon.
        if (attempt >= REFRESH_RETRY_DELAYS_MS.length) {
          throw new ApiError(0, "network", "Parley cannot be reached. Check your connection.");
        }
        await new Promise((resolve) => setTimeout(resolve, REFRESH_RETRY_DELAYS_MS[attempt]));
      }
    }
    const body = await readJSON(response);
    if (response.ok) {
      this.#store(body);
      this.dispatchEvent(new CustomEvent("refreshed"));
      return;
    }
    const error = toError(response, body);
    if (response.status === 401 || response.status === 403) {
      this.#clear();
      this.dispatchEvent(new CustomEvent("expired", { detail: { reason: error.code } }));
    }
    throw error;
  }

  /** A valid access token, refreshed first when it is about to expire. */
  async accessToken() {
    if (!this.session) throw new ApiError(401, "unauthorized", "You are signed out.");
    if (this.session.expiresAt - Date.now() < 30_000) await this.refresh();
    if (!this.session) throw new ApiError(401, "unauthorized", "You are signed out.");
    return this.session.accessToken;
  }

  /** One REST call; on 401 the tokens are refreshed and the call is made once more. */
  async request(method, path, body = undefined, { auth = true, retried = false } = {}) {
    const headers = {};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (auth) headers.Authorization = `Bearer ${await this.accessToken()}`;
    let response;
    try {
      response = await fetch(this.base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch {
      throw new ApiError(0, "network", "Parley cannot be reached. Check your connection.");
    }
    if (response.status === 401 && auth && !retried) {
      await this.refresh();
      return this.request(method, path, body, { auth, retried: true });
    }
    const parsed = await readJSON(response);
    if (!response.ok) {
      const error = toError(response, parsed);
      if (response.status === 401 && auth) {
        this.#clear();
        this.dispatchEvent(new CustomEvent("expired", { detail: { reason: error.code } }));
      }
      throw error;
    }
    return parsed;
  }

  /** `inviteCode`: an invitation's code (REGISTRATION=invite); left out when empty. */
  async register(email, password, displayName, inviteCode = "") {
    const body = { email, password, displayName };
    if (inviteCode) body.inviteCode = inviteCode;
    this.#store(await this.request("POST", "/auth/register", body, { auth: false }));
    return this.session.user;
  }

  async login(email, password) {
    this.#store(await this.request("POST", "/auth/login", { email, password }, { auth: false }));
    return this.session.user;
  }

  async logout() {
    const token = this.session?.refreshToken;
    this.#clear();
    if (token) {
      try {
        await fetch(`${this.base}/auth/logout`, {
          method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ refreshToken: token }),
        });
      } catch { /* signed out locally either way */ }
    }
  }

  // Shorthands for the routes the client uses.
  me() { return this.request("GET", "/users/me"); }
  searchUsers(q) { return this.request("GET", `/users?q=${encodeURIComponent(q)}&limit=20`); }
  /** Every conversation, following `nextCursor` page by page (each at most once). */
  async conversations() {
    const all = [], seen = new Set();
    let cursor = null;
    do {
      const query = new URLSearchParams({ limit: "200" });
      if (cursor) query.set("cursor", cursor);
      const page = await this.request("GET", `/conversations?${query}`);
      for (const conversation of page.conversations ?? []) {
        if (!seen.has(conversation.id)) { seen.add(conversation.id); all.push(conversation); }
      }
      cursor = page.nextCursor ?? null;
    } while (cursor);
    return { conversations: all };
  }
  conversation(id) { return this.request("GET", `/conversations/${encodeURIComponent(id)}`); }
  createDM(userId) { return this.request("POST", "/conversations", { kind: "dm", userId }); }
  createGroup(title, memberIds) { return this.request("POST", "/conversations", { kind: "group", title, memberIds }); }
  rename(id, title) { return this.request("PATCH", `/conversations/${encodeURIComponent(id)}`, { title }); }
  addMember(id, userId) { return this.request("POST", `/conversations/${encodeURIComponent(id)}/members`, { userId }); }
  removeMember(id, userId) {
    return this.request("DELETE", `/conversations/${encodeURIComponent(id)}/members/${encodeURIComponent(userId)}`);
  }
  messages(id, { before, after, limit = 50 } = {}) {
    const query = new URLSearchParams({ limit: String(limit) });
    if (before) query.set("before", before);
    if (after) query.set("after", after);
    return this.request("GET", `/conversations/${encodeURIComponent(id)}/messages?${query}`);
  }
  /** `attachmentIds`: files uploaded to this conversation (attachments.js), left out when none. */
  sendMessage(id, content, clientMsgId, attachmentIds = []) {
    const body = { content, clientMsgId };
    if (attachmentIds.length) body.attachmentIds = attachmentIds;
    return this.request("POST", `/conversations/${encodeURIComponent(id)}/messages`, body);
  }
  /** Announces a file about to be uploaded: {attachment, upload: {method, url, headers}}. */
  createAttachment(conversationId, { name, size, contentType, width = null, height = null }) {
    const body = { name, size, contentType };
    if (Number.isInteger(width) && Number.isInteger(height)) Object.assign(body, { width, height });
    return this.request("POST", `/conversations/${encodeURIComponent(conversationId)}/attachments`, body);
  }

  /** An attachment's bytes (its `url`, Parley's /attachments/{id}) as a Blob. The access token
   * goes only to Parley's own origin, and never across a redirect: Parley is first asked where
   * the bytes are (`Accept: application/json`, answered `{url}`), then that address is fetched,
   * with the token when it is Parley's own (local storage) and without it or any cookie when it
   * is another origin (a store's presigned URL, which lasts minutes: asked again each download). */
  async download(url, { signal } = {}) {
    const home = new URL(this.base || location.href, location.href);
    const get = async (target, { token, json = false, retried = false }) => {
      const headers = {};
      if (token) headers.Authorization = `Bearer ${await this.accessToken()}`;
      if (json) headers.Accept = "application/json";
      let response;
      try {
        response = await fetch(target.href, {
          headers, signal, credentials: "omit",
          // A redirect is never followed with the token (an older browser would keep it on another origin).
          redirect: token ? "manual" : "follow",
          // The answer `{url}` and the bytes share one address (without Vary: Accept): the HTTP
          // cache must not hand either out for the other.
          cache: json ? "no-store" : "default",
        });
      } catch (error) {
        if (error?.name === "AbortError") throw error;
        throw new ApiError(0, "network", token
          ? "Parley cannot be reached. Check your connection."
          : "The file store cannot be reached. Check your connection.");
      }
      if (response.type === "opaqueredirect") {
        throw new ApiError(0, "error", "The server sent the download elsewhere; it was not followed with your sign-in.");
      }
      if (response.status === 401 && token && !retried) {
        await this.refresh();
        return get(target, { token, json, retried: true });
      }
      if (!response.ok) throw toError(response, await readJSON(response));
      return response;
    };

    let where = new URL(url, home);
    if (where.origin === home.origin) {
      const answer = await get(where, { token: true, json: true });
      const address = (await readJSON(answer))?.url;
      if (typeof address !== "string" || !address) {
        throw new ApiError(answer.status, "internal", "The server did not say where the file is.");
      }
      where = new URL(address, where);
      if (where.protocol !== "https:" && where.protocol !== "http:") {
        throw new ApiError(answer.status, "internal", "The server gave an address that cannot be downloaded.");
      }
    }
    const response = await get(where, { token: where.origin === home.origin });
    return response.blob();
  }
  markRead(id, messageId) { return this.request("POST", `/conversations/${encodeURIComponent(id)}/read`, { messageId }); }
  call(id) { return this.request("GET", `/conversations/${encodeURIComponent(id)}/call`); }
}

async function readJSON(response) {
  const text = await response.text().catch(() => "");
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function toError(response, body) {
  const error = body?.error;
  if (error && typeof error.code === "string") {
    return new ApiError(response.status, error.code, error.message || error.code, error.field ?? null);
  }
  return new ApiError(response.status, response.status >= 500 ? "internal" : "error",
    `The server answered ${response.status} ${response.statusText}`.trim());
}
