// Entry point: signs the person in (or keeps them signed in across reloads), then starts the
// WebSocket and the chat and call views.

import { Api, describeError } from "./api.js?v=dev";
import { Socket } from "./socket.js?v=dev";
import { Store } from "./store.js?v=dev";
import { ChatView } from "./chat.js?v=dev";
import { CallController } from "./call.js?v=dev";
import { Notifier } from "./notifications.js?v=dev";
import { Ringer } from "./ringing.js?v=dev";
import { ProfileSettings } from "./profile.js?v=dev";
import { AdminPage } from "./admin.js?v=dev";
import { WebhookSettings } from "./webhooks.js?v=dev";
import { signupRoute, describeSignupError } from "./signup.js?v=dev";
import { $, showAlert, clearAlerts } from "./dom.js?v=dev";

const api = new Api();
const store = new Store();
const socket = new Socket(api);
const calls = new CallController({ api, socket, store });
const chat = new ChatView({ api, socket, store, calls });
const notifier = new Notifier({ socket, store, open: (id) => chat.open(id) });
const ringer = new Ringer({ socket, store, calls, notifier });
const admin = new AdminPage({ api, store });
new WebhookSettings({ api, store });
new ProfileSettings({
  api, store, notifier, socket,
  signedOutEverywhere: () => signOut({ message: "You were logged out on every device and browser." }),
});

// A small read-only hook for diagnostics and the browser tests.
window.parleyDebug = Object.freeze({
  inboundStats: () => calls.inboundStats(),
  outboundStats: () => calls.outboundStats(),
  call: () => calls.snapshot(),
  ringing: () => ringer.snapshot(),
  socketOnline: () => socket.online,
  frames: () => socket.trace.map((entry) => ({ ...entry })),
  messageIds: (conversationId) => [...(store.threads.get(conversationId ?? store.activeId)?.messages.keys() ?? [])].sort(),
  activeConversation: () => store.activeId,
});

function showAuth(mode = "login") {
  if (mode === "login" && signupRoute()) history.replaceState(null, "", location.pathname + location.search);
  $("app-view").hidden = true;
  $("auth-view").hidden = false;
  $("login-form").hidden = mode !== "login";
  $("signup-form").hidden = mode !== "signup";
  $(mode === "login" ? "login-email" : "signup-name").focus();
}

async function enterApp(user) {
  store.reset();
  store.me = user;
  $("auth-view").hidden = true;
  $("app-view").hidden = false;
  $("me-name").textContent = user.displayName;
  chat.showEmpty();
  socket.start();
  await chat.sync();
  if (signupRoute()) {
    // An invitation link opened while signed in: it is for someone without an account.
    history.replaceState(null, "", location.pathname + location.search);
    showAlert("You are already signed in. To use an invitation link for a new account, log out first.", { kind: "info", timeoutMs: 10_000 });
  }
  chat.followRoute(); // the conversation the address names (a reload, Back, a link)
  admin.signedIn(); // the Admin button for administrators, and #/admin
  // Focus never stays on a control that went away with the sign-in form.
  if (!store.activeId && (!document.activeElement || document.activeElement === document.body)) $("user-search").focus();
}

async function signOut({ message = null, serverSide = true } = {}) {
  if (serverSide) {
    // Logging out on purpose: this person's drafts and address leave the browser with them.
    chat.composer.forgetAllDrafts();
    history.replaceState(null, "", location.pathname);
  }
  $("skip-link").hidden = true;
  admin.signedOut();
  await calls.leave();
  ringer.stopAll();
  socket.stop();
  store.clearTyping();
  store.reset();
  chat.threadView.messageNodes.clear();
  $("conversation-list").replaceChildren();
  $("message-list").replaceChildren();
  notifier.updateTitle();
  if (serverSide) await api.logout();
  clearAlerts();
  if (message) showAlert(message, { timeoutMs: 0 });
  showAuth("login");
}

function fieldLabel(field) {
  return { email: "Email", password: "Password", displayName: "Display name" }[field] ?? field;
}

function bindAuthForms() {
  $("show-signup").addEventListener("click", () => showAuth("signup"));
  $("show-login").addEventListener("click", () => showAuth("login"));
  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const email = $("login-email").value.trim();
    const password = $("login-password").value;
    if (!email || !password) {
      showAlert("Enter your email and password.", { timeoutMs: 6_000 });
      return;
    }
    const button = event.submitter ?? $("login-form").querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const user = await api.login(email, password);
      $("login-password").value = "";
      clearAlerts();
      await enterApp(user);
    } catch (error) {
      showAlert(`Could not log in: ${describeError(error)}`);
    } finally {
      button.disabled = false;
    }
  });
  $("signup-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const displayName = $("signup-name").value.trim();
    const email = $("signup-email").value.trim();
    const password = $("signup-password").value;
    const inviteCode = $("signup-invite").value.trim();
    if (!displayName || !email || password.length < 8) {
      showAlert("Enter a display name, an email, and a password of at least 8 characters.", { timeoutMs: 8_000 });
      return;
    }
    const button = event.submitter ?? $("signup-form").querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const user = await api.register(email, password, displayName, inviteCode);
      $("signup-password").value = "";
      $("signup-invite").value = "";
      if (signupRoute()) history.replaceState(null, "", location.pathname + location.search);
      clearAlerts();
      await enterApp(user);
    } catch (error) {
      const where = error.field ? ` (${fieldLabel(error.field)})` : "";
      showAlert(`Could not sign up${where}: ${describeSignupError(error, inviteCode)}`);
      if (error.code === "registration_closed") $("signup-invite").focus();
    } finally {
      button.disabled = false;
    }
  });
  $("logout-button").addEventListener("click", () => signOut());
  // An invitation link (#/signup?invite=<code>) opened, or pasted into this tab, while signed out.
  addEventListener("hashchange", () => { if (!api.signedIn) followSignupRoute(); });
}

/** The sign-up form with the invitation's code filled in, when the address is an invitation link. */
function followSignupRoute() {
  const route = signupRoute();
  if (!route) return false;
  showAuth("signup");
  if (route.invite) {
    $("signup-invite").value = route.invite;
    $("signup-invite-hint").textContent = "Filled in from your invitation link.";
  }
  return true;
}

function bindConnectionStatus() {
  const status = $("connection-status");
  let shownAt = 0;
  socket.addEventListener("offline", () => {
    chat.markDisconnected();
    if (!api.signedIn) return;
    status.textContent = "Connection lost. Reconnecting\u2026";
    status.hidden = false;
    shownAt = Date.now();
  });
  socket.addEventListener("retrying", (event) => {
    if (!api.signedIn) return;
    status.textContent = `Connection lost. Reconnecting in ${Math.ceil(event.detail.delay / 1000)} s\u2026`;
    status.hidden = false;
  });
  socket.addEventListener("online", () => {
    status.textContent = "Connected.";
    setTimeout(() => { if (socket.online) status.hidden = true; }, Date.now() - shownAt < 500 ? 0 : 1_500);
    // Every (re)connect: subscribe first (done by auth), then fetch what was missed.
    chat.sync();
  });
  socket.addEventListener("fatal", (event) => showAlert(event.detail.message, { timeoutMs: 0 }));
  socket.on("auth.success", () => {});
}

async function start() {
  bindAuthForms();
  bindConnectionStatus();
  api.addEventListener("expired", (event) => {
    const reason = event.detail?.reason;
    const message = reason === "token_reused"
      ? "Your session was ended because it was used from somewhere else. Please log in again."
      : reason === "logged-out-elsewhere" ? "You logged out in another tab."
        : "You were signed out: this session has ended (it expired, or was ended on the server). Please log in again.";
    signOut({ message, serverSide: false });
  });
  if (!api.signedIn) {
    if (!followSignupRoute()) showAuth("login");
    return;
  }
  try {
    const user = await api.me();
    api.setUser(user);
    await enterApp(user);
  } catch (error) {
    if (error.status === 401) return; // "expired" has shown the login screen
    if (api.user) {
      // The server is unreachable: show what we know and let the socket keep trying.
      showAlert(`Parley cannot be reached right now: ${describeError(error)}`);
      await enterApp(api.user);
    } else {
      showAuth("login");
    }
  }
}

start();
