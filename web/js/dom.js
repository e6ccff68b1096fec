// Small DOM helpers: element creation without innerHTML (all text goes in as text nodes, so
// message content can never become markup), the alert region, and keyed list reconciliation.

/** `h("button", {class: "x", onclick: fn, "aria-label": "Send"}, "text", child)` */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      element.className = value;
    } else if (name === "dataset") {
      Object.assign(element.dataset, value);
    } else if (value === true) {
      element.setAttribute(name, "");
    } else {
      element.setAttribute(name, String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export const $ = (id) => document.getElementById(id);

/**
 * Makes `container`'s children the given nodes in order, moving only what is out of place so
 * that focus and scroll state of unchanged nodes survive.
 */
export function reconcile(container, nodes) {
  const wanted = new Set(nodes);
  for (const child of [...container.children]) if (!wanted.has(child)) child.remove();
  let cursor = container.firstElementChild;
  for (const node of nodes) {
    if (node === cursor) {
      cursor = cursor.nextElementSibling;
    } else {
      container.insertBefore(node, cursor);
    }
  }
}

/** The visible alert region (role="alert"): each message stays until dismissed or 12 s pass. */
export function showAlert(message, { kind = "error", timeoutMs = 12_000 } = {}) {
  const region = $("alerts");
  for (const existing of region.querySelectorAll(".alert-text")) {
    if (existing.textContent === message) existing.parentElement.remove(); // no stacking of repeats
  }
  const item = h("div", { class: `alert alert-${kind}` },
    h("span", { class: "alert-text" }, message),
    h("button", { type: "button", class: "alert-close", "aria-label": "Dismiss message", onclick: () => item.remove() }, "\u00d7"));
  region.append(item);
  if (timeoutMs) setTimeout(() => item.remove(), timeoutMs);
  return item;
}

export function clearAlerts() {
  $("alerts").replaceChildren();
}

export function formatTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const now = new Date();
  const time = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  if (date.toDateString() === now.toDateString()) return time;
  // Not this year: the year too, or an old message would pass for one from this year.
  const day = date.getFullYear() === now.getFullYear()
    ? date.toLocaleDateString([], { month: "short", day: "numeric" })
    : date.toLocaleDateString([], { year: "numeric", month: "short", day: "numeric" });
  return `${day} ${time}`;
}

/** The whole date and time, for a message's hover title. */
export function formatFullDate(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return date.toLocaleString([], { weekday: "long", year: "numeric", month: "long", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

/** A day's heading in the message list: "Today", "Yesterday", or the date (with the year when not this year). */
export function formatDay(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const now = new Date();
  const yesterday = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1);
  if (date.toDateString() === now.toDateString()) return "Today";
  if (date.toDateString() === yesterday.toDateString()) return "Yesterday";
  return date.toLocaleDateString([], date.getFullYear() === now.getFullYear()
    ? { weekday: "long", month: "long", day: "numeric" }
    : { weekday: "long", year: "numeric", month: "long", day: "numeric" });
}

export function newClientMsgId() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}
