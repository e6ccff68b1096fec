// Small pieces shared by the administration page and the group's webhooks: a secret shown once
// (an invitation link, a bot's token, a webhook's URL) in a read-only field with a Copy button,
// a button that acts on its second click, and short dates.

import { h } from "./dom.js?v=dev";

let serial = 0;

/** A read-only field holding `value`, labelled `label`, with a "Copy …" button: the Clipboard
 * API when the browser allows it, otherwise the text is selected for the person to copy (Ctrl+C).
 * `hint` says what the secret is and that it is shown only once. */
export function secretBox({ label, value, copyLabel, hint, className = "" }) {
  serial += 1;
  const inputId = `secret-${serial}`, hintId = `secret-hint-${serial}`, statusId = `secret-status-${serial}`;
  const input = h("input", { id: inputId, class: "secret-value", readonly: true, value, spellcheck: "false",
    autocomplete: "off", "aria-describedby": hint ? hintId : null });
  input.value = value;
  const status = h("p", { id: statusId, class: "hint copy-status", role: "status" });
  const copy = h("button", { type: "button", class: "small", onclick: async () => {
    const done = await copyText(value, input);
    status.textContent = done ? "Copied to the clipboard." : "Selected: press Ctrl+C (or \u2318C) to copy.";
  } }, copyLabel);
  input.addEventListener("focus", () => input.select());
  return h("div", { class: `secret-box ${className}`.trim() },
    h("label", { for: inputId }, label),
    h("div", { class: "secret-row" }, input, copy),
    hint ? h("p", { id: hintId, class: "hint" }, hint) : null,
    status);
}

/** Copies `text`; false when the Clipboard API is missing or refused, `input`'s text then selected. */
export async function copyText(text, input = null) {
  try {
    if (navigator.clipboard?.writeText && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch { /* refused (no permission, page not focused): fall back to selecting */ }
  if (input) {
    input.focus();
    input.select();
    input.setSelectionRange(0, input.value.length);
  }
  return false;
}

/** A button that acts on its second click: the first turns it into `confirmText` (focus stays on
 * it) for a few seconds. True when this click is the confirming one. */
export function confirmClick(button, confirmText) {
  if (button.dataset.armed) {
    reset(button);
    return true;
  }
  button.dataset.armed = "1";
  button.dataset.text = button.textContent;
  if (button.hasAttribute("aria-label")) button.dataset.label = button.getAttribute("aria-label");
  button.classList.add("armed");
  button.textContent = confirmText;
  button.removeAttribute("aria-label");
  clearTimeout(button.disarmTimer);
  button.disarmTimer = setTimeout(() => reset(button), 6_000);
  return false;
}

function reset(button) {
  clearTimeout(button.disarmTimer);
  if (!button.dataset.armed) return;
  delete button.dataset.armed;
  button.classList.remove("armed");
  button.textContent = button.dataset.text;
  if (button.dataset.label) button.setAttribute("aria-label", button.dataset.label);
}

/** A date and time, short: "6 Dec 2026, 14:05". */
export function shortDate(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return date.toLocaleString([], { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}
