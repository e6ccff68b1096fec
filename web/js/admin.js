// The administration page (issue 14), for the server's administrators only: invitation links,
// the accounts (page by page, with search; deactivate, reactivate, promote, demote) and bots.
// It has its own address, #/admin, and is reached from the "Admin" button in the sidebar's
// header, which shows only to administrators. The server refuses every /admin/* call to anyone
// else (403); this page only spares them the refusal. Secrets the server shows once (an
// invitation's link, a bot's token) are shown once here too, with a Copy button, and never kept.

import { describeError } from "./api.js?v=dev";
import { $, h, showAlert } from "./dom.js?v=dev";
import { secretBox, confirmClick, shortDate } from "./secrets.js?v=dev";

const ROUTE = "#/admin";
const USERS_PER_PAGE = 25;

export class AdminPage {
  constructor({ api, store }) {
    this.api = api;
    this.store = store;
    this.userCursors = [null]; // the cursor of each page seen so far; the last is the current page's
    this.userQuery = "";
    this.#build();
    addEventListener("hashchange", () => this.follow());
    // Opening a conversation (a click in the list, a notification) leaves the page.
    store.addEventListener("change", ({ detail }) => { if (detail.kind === "opened" && this.shown) this.hide(); });
  }

  get isAdmin() { return this.store.me?.role === "admin"; }
  get shown() { return !this.view.hidden; }

  // MARK: entering and leaving

  /** After sign-in: the header button for administrators, and the page if the address names it. */
  signedIn() {
    this.button.hidden = !this.isAdmin;
    this.follow();
  }

  signedOut() {
    this.button.hidden = true;
    this.hide({ focus: false });
    for (const id of ["invite-created", "bot-created"]) $(id).replaceChildren();
  }

  /** Shows the page when the address is #/admin and the person is an administrator; refuses it otherwise. */
  follow() {
    if (!this.store.me) return;
    if (location.hash !== ROUTE) {
      if (this.shown) this.hide({ focus: false });
      return;
    }
    if (!this.isAdmin) {
      history.replaceState(null, "", location.pathname + location.search);
      this.hide({ focus: false });
      showAlert("The administration page is for administrators only.", { timeoutMs: 8_000 });
      return;
    }
    this.show();
  }

  show() {
    const wasShown = this.shown;
    this.view.hidden = false;
    $("app-view").classList.add("admin-open");
    this.button.setAttribute("aria-current", "page");
    if (!wasShown) {
      $("admin-title").focus();
      this.refreshAll();
    }
  }

  hide({ focus = true } = {}) {
    if (!this.shown) return;
    this.view.hidden = true;
    $("app-view").classList.remove("admin-open");
    this.button.removeAttribute("aria-current");
    for (const id of ["invite-created", "bot-created"]) $(id).replaceChildren(); // secrets are shown once
    if (location.hash === ROUTE) history.pushState(null, "", location.pathname + location.search);
    if (focus) this.button.focus();
  }

  refreshAll() {
    this.loadInvites();
    this.userCursors = [null];
    this.loadUsers();
    this.loadBots();
  }

  // MARK: building the page

  #build() {
    this.button = h("button", { type: "button", id: "admin-button", class: "small", hidden: true,
      onclick: () => { if (location.hash === ROUTE) this.follow(); else location.hash = ROUTE; } }, "Admin");
    $("logout-button").before(this.button);

    const table = (id, caption, headings) => h("table", { class: "admin-table" },
      h("caption", { class: "visually-hidden" }, caption),
      h("thead", {}, h("tr", {}, headings.map((text) => h("th", { scope: "col" }, text)))),
      h("tbody", { id }));

    this.view = h("section", { id: "admin-view", class: "admin-view", "aria-labelledby": "admin-title", hidden: true },
      h("header", { class: "admin-header" },
        h("h2", { id: "admin-title", tabindex: "-1" }, "Administration"),
        h("button", { type: "button", id: "admin-close", onclick: () => this.hide() }, "Close administration")),
      h("div", { class: "admin-body" },
        h("section", { class: "admin-section", "aria-labelledby": "admin-invites-title" },
          h("h3", { id: "admin-invites-title" }, "Invitations"),
          h("p", { class: "hint" }, "A link lets people create an account on this server. Each link works for the given number of sign-ups until it expires."),
          h("form", { id: "invite-form", class: "admin-form", novalidate: true },
            h("div", { class: "field" },
              h("label", { for: "invite-uses" }, "Number of uses"),
              h("input", { id: "invite-uses", type: "number", min: "1", max: "1000", value: "1", required: true, inputmode: "numeric" })),
            h("div", { class: "field" },
              h("label", { for: "invite-hours" }, "Valid for (hours)"),
              h("input", { id: "invite-hours", type: "number", min: "1", max: "720", value: "168", required: true, inputmode: "numeric" })),
            h("button", { type: "submit", class: "primary" }, "Create invitation link")),
          h("div", { id: "invite-created" }),
          table("invite-rows", "Invitations", ["Created", "Expires", "Uses", "State", "Actions"]),
          h("p", { id: "invite-empty", class: "empty-hint", hidden: true }, "No invitations yet.")),
        h("section", { class: "admin-section", "aria-labelledby": "admin-users-title" },
          h("h3", { id: "admin-users-title" }, "Users"),
          h("form", { id: "admin-user-form", class: "admin-form", role: "search" },
            h("div", { class: "field grow" },
              h("label", { for: "admin-user-search" }, "Search users"),
              h("input", { id: "admin-user-search", type: "search", autocomplete: "off", placeholder: "Name or email", "aria-describedby": "admin-user-search-hint" })),
            h("button", { type: "submit" }, "Search")),
          h("p", { id: "admin-user-search-hint", class: "hint" }, "The start of a display name or an email; empty for everyone."),
          table("admin-user-rows", "Users", ["Name", "Email", "Role", "Status", "Actions"]),
          h("p", { id: "admin-user-empty", class: "empty-hint", hidden: true }, "No users match."),
          h("nav", { class: "pager", "aria-label": "Pages of users" },
            h("button", { type: "button", id: "admin-users-prev", class: "small", onclick: () => this.#pageUsers(-1) }, "Previous page"),
            h("span", { id: "admin-users-page", class: "hint", "aria-live": "polite" }),
            h("button", { type: "button", id: "admin-users-next", class: "small", onclick: () => this.#pageUsers(1) }, "Next page"))),
        h("section", { class: "admin-section", "aria-labelledby": "admin-bots-title" },
          h("h3", { id: "admin-bots-title" }, "Bots"),
          h("p", { class: "hint" }, "A bot posts through the API with its token. It has no password and cannot join calls."),
          h("form", { id: "bot-form", class: "admin-form", novalidate: true },
            h("div", { class: "field grow" },
              h("label", { for: "bot-name" }, "Bot name"),
              h("input", { id: "bot-name", maxlength: "64", required: true, autocomplete: "off" })),
            h("button", { type: "submit", class: "primary" }, "Create bot")),
          h("div", { id: "bot-created" }),
          table("bot-rows", "Bots", ["Name", "Status", "Actions"]),
          h("p", { id: "bot-empty", class: "empty-hint", hidden: true }, "No bots yet."))));
    $("main").append(this.view);

    $("invite-form").addEventListener("submit", (event) => { event.preventDefault(); this.createInvite(event.submitter); });
    $("admin-user-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.userQuery = $("admin-user-search").value.trim();
      this.userCursors = [null];
      this.loadUsers();
    });
    $("bot-form").addEventListener("submit", (event) => { event.preventDefault(); this.createBot(event.submitter); });
    this.view.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !event.defaultPrevented && !event.target.closest?.("input")) this.hide();
    });
  }

  /** A failed /admin call: 403 means this person is no administrator (any more). */
  #failed(what, error) {
    if (error.status === 403 && error.code === "forbidden") {
      showAlert("You are not an administrator of this server (any more).", { timeoutMs: 0 });
      if (this.store.me) this.store.me = { ...this.store.me, role: "member" };
      this.button.hidden = true;
      this.hide({ focus: false });
      $("user-search").focus();
      return;
    }
    showAlert(`${what}: ${describeError(error)}`);
  }

  // MARK: invitations

  async createInvite(button) {
    const uses = Number($("invite-uses").value), hours = Number($("invite-hours").value);
    if (!Number.isInteger(uses) || uses < 1 || uses > 1000) return this.#invalid("invite-uses", "The number of uses must be a whole number from 1 to 1000.");
    if (!Number.isInteger(hours) || hours < 1 || hours > 720) return this.#invalid("invite-hours", "The validity must be a whole number of hours from 1 to 720 (30 days).");
    for (const id of ["invite-uses", "invite-hours"]) $(id).removeAttribute("aria-invalid");
    if (button) button.disabled = true;
    try {
      const invite = await this.api.request("POST", "/admin/invites", { maxUses: uses, expiresInHours: hours });
      const box = secretBox({
        label: "Invitation link", value: invite.url, copyLabel: "Copy link",
        hint: `Send this link to the people you invite: it is shown only now. It works for ${invite.maxUses} sign-up${invite.maxUses === 1 ? "" : "s"} until ${shortDate(invite.expiresAt)}.`,
      });
      $("invite-created").replaceChildren(box);
      box.querySelector("input").focus();
      await this.loadInvites();
    } catch (error) {
      this.#failed("Could not create the invitation", error);
    } finally {
      if (button) button.disabled = false;
    }
  }

  #invalid(id, message) {
    $(id).setAttribute("aria-invalid", "true");
    $(id).focus();
    showAlert(message, { timeoutMs: 8_000 });
  }

  async loadInvites() {
    try {
      const { invites } = await this.api.request("GET", "/admin/invites");
      const now = Date.now();
      $("invite-rows").replaceChildren(...invites.map((invite) => {
        const usedUp = invite.uses >= invite.maxUses;
        const expired = new Date(invite.expiresAt).getTime() <= now;
        const state = usedUp ? "Used up" : expired ? "Expired" : "Open";
        const created = shortDate(invite.createdAt);
        const revoke = h("button", { type: "button", class: "small danger", "aria-label": `Revoke invitation created ${created}`,
          onclick: async () => {
            if (!confirmClick(revoke, `Confirm revoking the invitation of ${created}`)) return;
            try {
              await this.api.request("DELETE", `/admin/invites/${encodeURIComponent(invite.id)}`);
              showAlert("Invitation revoked: its link no longer works.", { kind: "info", timeoutMs: 4_000 });
              await this.loadInvites();
              $("invite-uses").focus();
            } catch (error) {
              this.#failed("Could not revoke the invitation", error);
            }
          } }, "Revoke");
        return h("tr", { dataset: { inviteId: invite.id } },
          h("td", {}, created), h("td", {}, shortDate(invite.expiresAt)),
          h("td", {}, `${invite.uses} of ${invite.maxUses}`), h("td", {}, state), h("td", {}, revoke));
      }));
      $("invite-empty").hidden = invites.length > 0;
    } catch (error) {
      this.#failed("Could not load the invitations", error);
    }
  }

  // MARK: users

  #pageUsers(step) {
    if (step > 0 && this.nextCursor) this.userCursors.push(this.nextCursor);
    else if (step < 0 && this.userCursors.length > 1) this.userCursors.pop();
    else return;
    this.loadUsers({ focus: step > 0 ? "admin-users-next" : "admin-users-prev" });
  }

  async loadUsers({ focus = null } = {}) {
    const query = new URLSearchParams({ limit: String(USERS_PER_PAGE) });
    if (this.userQuery) query.set("q", this.userQuery);
    const cursor = this.userCursors[this.userCursors.length - 1];
    if (cursor) query.set("cursor", cursor);
    try {
      const page = await this.api.request("GET", `/admin/users?${query}`);
      this.nextCursor = page.nextCursor ?? null;
      $("admin-user-rows").replaceChildren(...page.users.map((user) => this.#userRow(user)));
      $("admin-user-empty").hidden = page.users.length > 0;
      const number = this.userCursors.length;
      $("admin-users-page").textContent = `Page ${number}`;
      $("admin-users-prev").disabled = number <= 1;
      $("admin-users-next").disabled = !this.nextCursor;
      // A pager button that just became disabled would drop focus to the page: keep it in the table.
      if (focus && $(focus).disabled) ($("admin-user-rows").querySelector("button") ?? $("admin-user-search")).focus();
    } catch (error) {
      this.#failed("Could not load the users", error);
    }
  }

  #userRow(user) {
    const me = user.id === this.store.me?.id;
    const name = user.displayName;
    const active = !user.deactivatedAt;
    const actions = [];
    const act = (text, label, confirmText, run, done) => {
      const button = h("button", { type: "button", class: `small${text === "Deactivate" ? " danger" : ""}`, "aria-label": label,
        onclick: async () => {
          if (!confirmClick(button, confirmText)) return;
          try {
            await run();
            showAlert(done, { kind: "info", timeoutMs: 5_000 });
            await this.loadUsers();
            // Focus stays in the row the person acted on (its buttons were redrawn).
            const row = $("admin-user-rows").querySelector(`tr[data-user-id="${CSS.escape(user.id)}"]`);
            (row?.querySelector("button") ?? $("admin-user-search")).focus();
          } catch (error) {
            this.#failed(`Could not change ${name}`, error);
          }
        } }, text);
      actions.push(button);
    };
    const path = `/admin/users/${encodeURIComponent(user.id)}`;
    if (user.role !== "bot") {
      if (user.role === "admin") {
        act("Make member", `Make ${name} a member`, `Confirm: ${name} no longer an administrator`,
          async () => {
            await this.api.request("PATCH", path, { role: "member" });
            if (me) this.#lostAdmin();
          }, `${name} is now a member.`);
      } else {
        act("Make admin", `Make ${name} an administrator`, `Confirm: ${name} an administrator`,
          () => this.api.request("PATCH", path, { role: "admin" }), `${name} is now an administrator.`);
      }
    }
    if (active) {
      act("Deactivate", `Deactivate ${name}`, `Confirm deactivating ${name}`,
        () => this.api.request("POST", `${path}/deactivate`), `${name} was deactivated and signed out everywhere.`);
    } else {
      act("Reactivate", `Reactivate ${name}`, `Confirm reactivating ${name}`,
        () => this.api.request("POST", `${path}/reactivate`), `${name} can sign in again.`);
    }
    const role = { admin: "Administrator", member: "Member", bot: "Bot" }[user.role] ?? user.role;
    return h("tr", { dataset: { userId: user.id }, class: active ? null : "inactive" },
      h("td", {}, me ? `${name} (you)` : name),
      h("td", { class: "email-cell" }, user.email ?? ""),
      h("td", {}, role),
      h("td", {}, active ? "Active" : `Deactivated ${shortDate(user.deactivatedAt)}`),
      h("td", { class: "row-actions" }, actions));
  }

  /** This person made themselves a member: the page and its button go. */
  #lostAdmin() {
    this.store.me = { ...this.store.me, role: "member" };
    this.api.setUser(this.store.me);
    this.button.hidden = true;
    setTimeout(() => { this.hide({ focus: false }); $("user-search").focus(); }, 0);
  }

  // MARK: bots

  async createBot(button) {
    const displayName = $("bot-name").value.trim();
    if (!displayName) return this.#invalid("bot-name", "Give the bot a name.");
    $("bot-name").removeAttribute("aria-invalid");
    if (button) button.disabled = true;
    try {
      const { user, token } = await this.api.request("POST", "/admin/bots", { displayName });
      const box = secretBox({
        label: `Token of the bot ${user.displayName}`, value: token, copyLabel: "Copy token",
        hint: "Shown only now: store it where the bot runs. It signs the bot in (Authorization: Bearer \u2026); revoke the bot to end it.",
      });
      $("bot-created").replaceChildren(box);
      $("bot-name").value = "";
      box.querySelector("input").focus();
      await this.loadBots();
    } catch (error) {
      if (error.field === "displayName") $("bot-name").setAttribute("aria-invalid", "true");
      this.#failed("Could not create the bot", error);
    } finally {
      if (button) button.disabled = false;
    }
  }

  async loadBots() {
    try {
      const { bots } = await this.api.request("GET", "/admin/bots");
      $("bot-rows").replaceChildren(...bots.map((bot) => {
        const active = !bot.deactivatedAt;
        const revoke = active ? h("button", { type: "button", class: "small danger", "aria-label": `Revoke bot ${bot.displayName}`,
          onclick: async () => {
            if (!confirmClick(revoke, `Confirm revoking ${bot.displayName}`)) return;
            try {
              await this.api.request("DELETE", `/admin/bots/${encodeURIComponent(bot.id)}`);
              showAlert(`The bot ${bot.displayName} was revoked: its token no longer works.`, { kind: "info", timeoutMs: 5_000 });
              $("bot-created").replaceChildren();
              await this.loadBots();
              $("bot-name").focus();
            } catch (error) {
              this.#failed(`Could not revoke ${bot.displayName}`, error);
            }
          } }, "Revoke") : null;
        return h("tr", { dataset: { userId: bot.id } },
          h("td", {}, bot.displayName),
          h("td", {}, active ? "Active" : "Revoked"),
          h("td", {}, revoke));
      }));
      $("bot-empty").hidden = bots.length > 0;
    } catch (error) {
      this.#failed("Could not load the bots", error);
    }
  }
}
