// The person's own profile (issue 17): display name and avatar URL (`PATCH /users/me`
// `{displayName?, avatarUrl?}`, docs/protocol.md), and whether this browser shows desktop
// notifications (notifications.js; asking the browser needs this click). A dialog opened from
// "Profile" in the sidebar; focus returns to that button when it closes.
//
// The avatar is stored and offered to other clients, but not drawn here: the page's CSP allows
// images from its own origin only (img-src 'self' data: blob:), and an avatar is any http(s) URL.

import { describeError } from "./api.js?v=dev";
import { $, h, showAlert } from "./dom.js?v=dev";
import { AccountSecurity } from "./account.js?v=dev";

export class ProfileSettings {
  /** `socket` and `signedOutEverywhere()` serve the password and "Log out everywhere" section (account.js). */
  constructor({ api, store, notifier, socket, signedOutEverywhere }) {
    this.api = api;
    this.store = store;
    this.notifier = notifier;
    this.dialog = h("dialog", { id: "profile-dialog", class: "dialog", "aria-labelledby": "profile-title" },
      h("form", { id: "profile-form", novalidate: true },
        h("h2", { id: "profile-title" }, "Your profile"),
        h("label", { for: "profile-name" }, "Display name"),
        h("input", { id: "profile-name", maxlength: "64", required: true, autocomplete: "nickname" }),
        h("label", { for: "profile-avatar" }, "Avatar URL"),
        h("input", { id: "profile-avatar", type: "url", maxlength: "2048", inputmode: "url", placeholder: "https://\u2026",
          "aria-describedby": "profile-avatar-hint" }),
        h("p", { id: "profile-avatar-hint", class: "hint" }, "An http or https address of a picture; leave it empty for none."),
        h("div", { class: "checkbox-row" },
          h("input", { id: "profile-notify", type: "checkbox", "aria-describedby": "profile-notify-hint" }),
          h("label", { for: "profile-notify" }, "Desktop notifications")),
        h("p", { id: "profile-notify-hint", class: "hint" },
          "New messages and calls in conversations you are not looking at; muted conversations stay quiet."),
        h("p", { id: "profile-error", class: "form-error", role: "alert" }),
        h("div", { class: "dialog-actions" },
          h("button", { type: "button", id: "profile-cancel" }, "Cancel"),
          h("button", { type: "submit", id: "profile-save", class: "primary" }, "Save profile"))));
    document.body.append(this.dialog);
    this.security = new AccountSecurity({ api, store, socket, dialog: this.dialog, signedOutEverywhere });
    $("profile-button").addEventListener("click", () => this.openDialog());
    $("profile-cancel").addEventListener("click", () => this.dialog.close());
    this.dialog.addEventListener("close", () => $("profile-button").focus());
    $("profile-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
  }

  openDialog() {
    const me = this.store.me;
    if (!me) return;
    $("profile-name").value = me.displayName ?? "";
    $("profile-avatar").value = me.avatarUrl ?? "";
    $("profile-notify").checked = this.notifier.enabled;
    $("profile-notify").disabled = !("Notification" in window) || Notification.permission === "denied";
    $("profile-notify-hint").textContent = !("Notification" in window) ? "This browser cannot show notifications."
      : Notification.permission === "denied" ? "Notifications are blocked for this site in the browser's settings."
        : "New messages and calls in conversations you are not looking at; muted conversations stay quiet.";
    $("profile-error").textContent = "";
    this.security.reset();
    this.dialog.showModal();
    $("profile-name").focus();
  }

  #fail(message, field) {
    $("profile-error").textContent = message;
    for (const id of ["profile-name", "profile-avatar"]) $(id).removeAttribute("aria-invalid");
    if (field) {
      $(field).setAttribute("aria-invalid", "true");
      $(field).focus();
    }
  }

  async save() {
    const me = this.store.me;
    const displayName = $("profile-name").value.trim();
    const avatar = $("profile-avatar").value.trim();
    if (!displayName) return this.#fail("Enter a display name.", "profile-name");
    if (avatar && !/^https?:\/\/\S+$/i.test(avatar)) return this.#fail("The avatar URL must start with http:// or https://.", "profile-avatar");
    const changes = {};
    if (displayName !== me.displayName) changes.displayName = displayName;
    if ((avatar || null) !== (me.avatarUrl ?? null)) changes.avatarUrl = avatar || null;
    const button = $("profile-save");
    button.disabled = true;
    try {
      const wantNotify = $("profile-notify").checked;
      if (wantNotify !== this.notifier.enabled) {
        const on = await this.notifier.setEnabled(wantNotify);
        if (wantNotify && !on) showAlert("The browser did not allow notifications for this site.", { kind: "info" });
      }
      if (Object.keys(changes).length) {
        const user = await this.api.request("PATCH", "/users/me", changes);
        this.store.me = { ...me, ...user };
        this.api.setUser(this.store.me);
        $("me-name").textContent = this.store.me.displayName;
        this.store.changed("conversations");
      }
      this.dialog.close();
      showAlert("Profile saved.", { kind: "info", timeoutMs: 4_000 });
    } catch (error) {
      const where = error.field === "displayName" ? "profile-name" : error.field === "avatarUrl" ? "profile-avatar" : null;
      this.#fail(`Could not save: ${describeError(error)}`, where);
    } finally {
      button.disabled = false;
    }
  }
}
