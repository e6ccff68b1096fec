// The sign-in side of the profile dialog (issue 14): changing one's password
// (`POST /users/me/password`; every other login is ended, this one stays) and "Log out everywhere"
// (`POST /auth/logout-all`; every login ends, this one included, so this page signs out too).

import { describeError } from "./api.js?v=dev";
import { $, h, showAlert } from "./dom.js?v=dev";
import { confirmClick } from "./secrets.js?v=dev";

export class AccountSecurity {
  /** `signedOutEverywhere()` returns this page to the login screen once every login has ended. */
  constructor({ api, store, socket, dialog, signedOutEverywhere }) {
    this.api = api;
    this.store = store;
    this.socket = socket;
    this.signedOutEverywhere = signedOutEverywhere;
    this.section = h("section", { class: "account-security", "aria-labelledby": "security-title" },
      h("h3", { id: "security-title" }, "Password and sessions"),
      h("form", { id: "password-form", novalidate: true },
        // For password managers (and Chromium's advice): whose password this is, not shown.
        h("input", { id: "password-username", type: "email", autocomplete: "username", readonly: true, hidden: true, tabindex: "-1" }),
        h("label", { for: "password-current" }, "Current password"),
        h("input", { id: "password-current", type: "password", autocomplete: "current-password", required: true, maxlength: "1024" }),
        h("label", { for: "password-new" }, "New password"),
        h("input", { id: "password-new", type: "password", autocomplete: "new-password", required: true, minlength: "8", maxlength: "128",
          "aria-describedby": "password-new-hint" }),
        h("p", { id: "password-new-hint", class: "hint" }, "At least 8 characters. Your other devices and browsers are logged out; this one stays."),
        h("label", { for: "password-repeat" }, "New password again"),
        h("input", { id: "password-repeat", type: "password", autocomplete: "new-password", required: true, maxlength: "128" }),
        h("p", { id: "password-error", class: "form-error", role: "alert" }),
        h("button", { type: "submit", id: "password-save" }, "Change password")),
      h("div", { class: "logout-all" },
        h("button", { type: "button", id: "logout-all", class: "danger", "aria-describedby": "logout-all-hint" }, "Log out everywhere"),
        h("p", { id: "logout-all-hint", class: "hint" }, "Ends every login of yours, on every device and browser, this one included.")));
    dialog.append(this.section);
    $("password-form").addEventListener("submit", (event) => { event.preventDefault(); this.changePassword(); });
    $("logout-all").addEventListener("click", (event) => this.logoutEverywhere(event.currentTarget));
  }

  /** The dialog opens afresh: no passwords or errors left from last time. */
  reset() {
    $("password-username").value = this.store.me?.email ?? "";
    for (const id of ["password-current", "password-new", "password-repeat"]) {
      $(id).value = "";
      $(id).removeAttribute("aria-invalid");
    }
    $("password-error").textContent = "";
  }

  #fail(message, field = null) {
    $("password-error").textContent = message;
    for (const id of ["password-current", "password-new", "password-repeat"]) $(id).removeAttribute("aria-invalid");
    if (field) {
      $(field).setAttribute("aria-invalid", "true");
      $(field).focus();
    }
  }

  async changePassword() {
    const current = $("password-current").value;
    const next = $("password-new").value;
    if (!current) return this.#fail("Enter your current password.", "password-current");
    if (next.length < 8) return this.#fail("The new password needs at least 8 characters.", "password-new");
    if (next !== $("password-repeat").value) return this.#fail("The two new passwords differ.", "password-repeat");
    const button = $("password-save");
    button.disabled = true;
    try {
      await this.api.request("POST", "/users/me/password", { currentPassword: current, newPassword: next });
      this.reset();
      showAlert("Password changed. Your other devices and browsers were logged out.", { kind: "info", timeoutMs: 8_000 });
    } catch (error) {
      const field = error.code === "invalid_credentials" ? "password-current" : error.field === "newPassword" ? "password-new" : null;
      this.#fail(`Could not change the password: ${describeError(error)}`, field);
    } finally {
      button.disabled = false;
    }
  }

  async logoutEverywhere(button) {
    if (!confirmClick(button, "Confirm: log out everywhere")) return;
    button.disabled = true;
    // The server closes this page's socket too; stopped first, so its close is not taken for
    // an expired session.
    this.socket.stop();
    try {
      await this.api.request("POST", "/auth/logout-all");
    } catch (error) {
      button.disabled = false;
      this.socket.start();
      if (error.status !== 401) showAlert(`Could not log out everywhere: ${describeError(error)}`);
      return;
    }
    button.disabled = false;
    this.section.closest("dialog")?.close();
    await this.signedOutEverywhere();
  }
}
