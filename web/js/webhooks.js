// A group's incoming webhooks (issue 14), in its settings dialog for the group's owner and
// admins: list, create (the URL, which is the webhook's only credential, is shown once with a
// Copy button) and delete. Messages posted through a webhook show under its name with a
// "webhook" badge (thread-view.js).

import { describeError } from "./api.js?v=dev";
import { $, h, showAlert } from "./dom.js?v=dev";
import { secretBox, confirmClick, shortDate } from "./secrets.js?v=dev";

export class WebhookSettings {
  constructor({ api, store }) {
    this.api = api;
    this.store = store;
    this.loadedFor = null;
    this.section = h("section", { id: "webhook-section", class: "webhook-section", "aria-labelledby": "webhooks-title", hidden: true },
      h("h3", { id: "webhooks-title" }, "Webhooks"),
      h("p", { class: "hint" }, "Other programs post messages into this group through a webhook's address, under the webhook's name."),
      h("ul", { id: "webhook-list", class: "members", "aria-labelledby": "webhooks-title" }),
      h("p", { id: "webhook-empty", class: "empty-hint", hidden: true }, "No webhooks."),
      h("form", { id: "webhook-form", class: "inline-form", novalidate: true },
        h("label", { for: "webhook-name" }, "Webhook name"),
        h("input", { id: "webhook-name", maxlength: "64", required: true, autocomplete: "off" }),
        h("button", { type: "submit" }, "Create webhook")),
      h("div", { id: "webhook-created" }));
    $("settings-dialog").querySelector(".dialog-actions").before(this.section);
    // After the settings dialog's own handler (registered first): the dialog is filled and open.
    $("group-settings-button").addEventListener("click", () => {
      $("webhook-created").replaceChildren();
      $("webhook-name").value = "";
      this.loadedFor = null;
      this.render();
    });
    $("settings-dialog").addEventListener("close", () => $("webhook-created").replaceChildren()); // shown once
    $("webhook-form").addEventListener("submit", (event) => { event.preventDefault(); this.create(event.submitter); });
    store.addEventListener("change", ({ detail }) => {
      if (detail.kind === "conversations" && detail.conversationId === store.activeId && $("settings-dialog").open) this.render();
    });
  }

  /** Shows the section to the group's owner and admins, and loads the list once per opening. */
  render() {
    const conversation = this.store.conversations.get(this.store.activeId);
    const role = this.store.myRole(conversation);
    const manager = conversation?.kind === "group" && (role === "owner" || role === "admin");
    this.section.hidden = !manager;
    if (manager && this.loadedFor !== conversation.id) {
      this.loadedFor = conversation.id;
      this.load(conversation.id);
    }
  }

  async load(conversationId) {
    try {
      const { webhooks } = await this.api.request("GET", `/conversations/${encodeURIComponent(conversationId)}/webhooks`);
      if (conversationId !== this.store.activeId) return;
      $("webhook-list").replaceChildren(...webhooks.map((webhook) => {
        const remove = h("button", { type: "button", class: "small danger", "aria-label": `Delete webhook ${webhook.name}`,
          onclick: async () => {
            if (!confirmClick(remove, `Confirm deleting ${webhook.name}`)) return;
            try {
              await this.api.request("DELETE", `/conversations/${encodeURIComponent(conversationId)}/webhooks/${encodeURIComponent(webhook.id)}`);
              showAlert(`Webhook ${webhook.name} deleted: its address no longer works.`, { kind: "info", timeoutMs: 4_000 });
              $("webhook-created").replaceChildren();
              await this.load(conversationId);
              $("webhook-name").focus();
            } catch (error) {
              showAlert(`Could not delete the webhook ${webhook.name}: ${describeError(error)}`);
            }
          } }, "Delete");
        return h("li", { dataset: { webhookId: webhook.id } },
          h("span", { class: "member-name" }, webhook.name),
          h("span", { class: "member-role" }, `since ${shortDate(webhook.createdAt)}`),
          remove);
      }));
      $("webhook-empty").hidden = webhooks.length > 0;
    } catch (error) {
      if (error.status === 403) {
        this.section.hidden = true; // not (any more) the group's owner or admin
        return;
      }
      showAlert(`Could not load the webhooks: ${describeError(error)}`);
    }
  }

  async create(button) {
    const conversationId = this.store.activeId;
    const name = $("webhook-name").value.trim();
    if (!name) {
      $("webhook-name").setAttribute("aria-invalid", "true");
      $("webhook-name").focus();
      showAlert("Give the webhook a name: its messages show under it.", { timeoutMs: 6_000 });
      return;
    }
    $("webhook-name").removeAttribute("aria-invalid");
    if (button) button.disabled = true;
    try {
      const webhook = await this.api.request("POST", `/conversations/${encodeURIComponent(conversationId)}/webhooks`, { name });
      $("webhook-name").value = "";
      const box = secretBox({
        label: `Address of the webhook ${webhook.name}`, value: webhook.url, copyLabel: "Copy address",
        hint: "Shown only now. Anyone with this address can post into the group: POST JSON {\"content\": \"\u2026\"} to it. Delete the webhook to end it.",
      });
      $("webhook-created").replaceChildren(box);
      box.querySelector("input").focus();
      await this.load(conversationId);
    } catch (error) {
      if (error.field === "name") $("webhook-name").setAttribute("aria-invalid", "true");
      showAlert(`Could not create the webhook: ${describeError(error)}`);
    } finally {
      if (button) button.disabled = false;
    }
  }
}
