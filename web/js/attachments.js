// Attachments in the thread: pictures as thumbnails made in the browser (their space reserved
// from the sizes the sender reported, so the thread does not jump when they arrive), opened large
// in a viewer; every other file (SVG included) as a card with its name, size and a Download
// button. Bytes come through AttachmentCache (an authorized fetch to a blob: URL), and only for
// what is near the screen.

import { describeError } from "./api.js?v=dev";
import { $, h, showAlert } from "./dom.js?v=dev";
import { AttachmentCache } from "./attachment-cache.js?v=dev";
import { THUMB_MAX, fitWithin, isInlineImage } from "./thumbnails.js?v=dev";

/** The box a picture of unknown size waits in. */
const UNKNOWN_SIZE = { width: 240, height: 180 };
/** Pictures this far below or above the visible part of the thread are fetched already. */
const NEAR_SCREEN = "800px 0px";

/** "812 B", "14 KB", "3.2 MB": sizes as people read them (1 KB = 1024 bytes, as the server's limit). */
export function formatBytes(bytes) {
  const n = Number(bytes) || 0;
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value < 10 ? value.toFixed(1).replace(/\.0$/, "") : Math.round(value)} ${units[unit]}`;
}

/** A short tag for a file card's icon, from its type and name ("PDF", "ZIP", "TXT"), and its kind for the colour. */
export function fileBadge(name, contentType) {
  const type = String(contentType ?? "").toLowerCase();
  const extension = /\.([a-z0-9]{1,5})$/i.exec(name ?? "")?.[1]?.toUpperCase();
  let kind = "other";
  if (type.startsWith("image/")) kind = "image";
  else if (type.startsWith("audio/")) kind = "audio";
  else if (type.startsWith("video/")) kind = "video";
  else if (type === "application/pdf") kind = "pdf";
  else if (/zip|tar|gzip|x-7z|rar|compress|bzip/.test(type)) kind = "archive";
  else if (type.startsWith("text/") || /json|xml|yaml|javascript/.test(type)) kind = "text";
  else if (/spreadsheet|excel|csv|document|word|presentation|powerpoint|opendocument/.test(type)) kind = "document";
  const label = extension ?? { image: "IMG", audio: "AUD", video: "VID", pdf: "PDF", archive: "ZIP", text: "TXT", document: "DOC" }[kind] ?? "FILE";
  return { kind, label: label.slice(0, 4) };
}

/** Words for a message's attachments, for one-line previews: "photo.png", "3 files". */
export function attachmentSummary(attachments) {
  const list = attachments ?? [];
  if (list.length === 0) return "";
  if (list.length === 1) return list[0].name;
  const images = list.filter((a) => isInlineImage(a.contentType)).length;
  return images === list.length ? `${list.length} images` : `${list.length} files`;
}

export class AttachmentView {
  /** `onLayout()` is told when a picture of unknown size took its real size (the thread may
   * have to stay at the bottom). */
  constructor({ api, onLayout = () => {} }) {
    this.cache = new AttachmentCache(api);
    this.onLayout = onLayout;
    this.viewer = new ImageViewer(this.cache);
    this.observer = null;
    this.loaders = new Map(); // element waiting to come near the screen -> its load()
  }

  /** The sender's own files, so their message shows them without downloading them back. */
  seed(attachment, blob, thumbnail) {
    this.cache.seed(attachment, blob, thumbnail);
  }

  /** The attachments of a message as a node (null when it has none, or is deleted). */
  render(message) {
    const list = (message.attachments ?? []).filter((a) => a && a.id);
    if (!list.length || message.deletedAt) return null;
    return h("div", { class: "attachments" }, list.map((a) => {
      if (!isInlineImage(a.contentType)) return this.#file(a);
      return this.cache.undecodable(a.id) ? this.#file(a, "This image cannot be shown.") : this.#image(a);
    }));
  }

  /** Keeps only what the thread still shows (`ids`); the rest is released. */
  retain(ids) {
    this.cache.retain(ids);
    this.#forgetDetached();
  }

  releaseAll() {
    this.cache.releaseAll();
    this.#forgetDetached();
  }

  #image(attachment) {
    const reported = fitWithin(attachment.width, attachment.height) ?? UNKNOWN_SIZE;
    const img = h("img", { class: "attachment-thumb", alt: attachment.name, width: reported.width, height: reported.height, draggable: "false" });
    const tile = h("button", {
      type: "button", class: "attachment-image loading", tabindex: "-1", dataset: { attachmentId: attachment.id },
      "aria-label": `View image ${attachment.name}, ${formatBytes(attachment.size)}`,
      onclick: () => this.viewer.open(attachment, tile),
    }, img);
    const show = ({ url, width, height }) => {
      if (img.width !== width || img.height !== height) {
        img.width = width;
        img.height = height;
        queueMicrotask(() => this.onLayout());
      }
      img.src = url;
      tile.classList.remove("loading");
    };
    const ready = this.cache.readyThumbnail(attachment.id);
    if (ready) {
      show(ready);
    } else {
      this.#whenNear(tile, () => this.cache.thumbnail(attachment).then(show, (error) => {
        if (error?.name === "AbortError" || !tile.isConnected) return;
        // Not a picture this browser can draw (or not one at all): offered as a file instead.
        tile.replaceWith(this.#file(attachment, "This image cannot be shown."));
      }));
    }
    return tile;
  }

  #file(attachment, note = null) {
    const badge = fileBadge(attachment.name, attachment.contentType);
    const size = formatBytes(attachment.size);
    const button = h("button", {
      type: "button", class: "small", tabindex: "-1", "aria-label": `Download ${attachment.name}, ${size}`,
      onclick: () => this.#download(attachment, button),
    }, "Download");
    return h("div", { class: "file-card", dataset: { attachmentId: attachment.id } },
      h("span", { class: `file-icon kind-${badge.kind}`, "aria-hidden": "true" }, badge.label),
      h("span", { class: "file-info" },
        h("span", { class: "file-name" }, attachment.name),
        h("span", { class: "file-size" }, note ? `${size} \u00b7 ${note}` : size)),
      button);
  }

  /** Fetches the file with the access token and saves it under its own name. */
  async #download(attachment, button) {
    if (button.getAttribute("aria-busy") === "true") return;
    button.setAttribute("aria-busy", "true");
    button.textContent = "Downloading\u2026";
    try {
      saveAs(await this.cache.url(attachment), attachment.name);
    } catch (error) {
      if (error?.name !== "AbortError") showAlert(`Could not download \u201c${attachment.name}\u201d: ${describeError(error)}`);
    } finally {
      button.removeAttribute("aria-busy");
      button.textContent = "Download";
    }
  }

  /** Runs `load` once `element` comes near the visible part of the thread. */
  #whenNear(element, load) {
    if (typeof IntersectionObserver !== "function") {
      load();
      return;
    }
    this.observer ??= new IntersectionObserver((entries) => {
      for (const entry of entries) {
        if (!entry.isIntersecting) continue;
        this.observer.unobserve(entry.target);
        const run = this.loaders.get(entry.target);
        this.loaders.delete(entry.target);
        run?.();
      }
    }, { root: $("message-scroller"), rootMargin: NEAR_SCREEN });
    this.loaders.set(element, load);
    this.observer.observe(element);
  }

  #forgetDetached() {
    for (const element of [...this.loaders.keys()]) {
      if (element.isConnected) continue;
      this.observer?.unobserve(element);
      this.loaders.delete(element);
    }
  }
}

/** Saves a blob: URL as a file named `name` (the browser's own download). */
export function saveAs(url, name) {
  const link = h("a", { href: url, download: name || "download", class: "visually-hidden" });
  document.body.append(link);
  link.click();
  link.remove();
}

/** The picture viewer: a modal dialog with the whole image, its name, a Download link and Close
 * (Esc, a click beside the picture, or the button); focus goes back to the thumbnail after. */
class ImageViewer {
  constructor(cache) {
    this.cache = cache;
    this.opener = null;
    this.showing = null;
    const dialog = $("image-viewer");
    $("image-viewer-close").addEventListener("click", () => dialog.close());
    dialog.addEventListener("click", (event) => { if (event.target === dialog) dialog.close(); });
    dialog.addEventListener("close", () => {
      this.showing = null;
      $("image-viewer-image").removeAttribute("src");
      // Back to the picture (redrawn meanwhile, perhaps: then its new copy).
      const opener = this.opener?.isConnected ? this.opener
        : document.querySelector(`#message-list .attachment-image[data-attachment-id="${CSS.escape(this.opener?.dataset.attachmentId ?? "")}"]`);
      opener?.focus();
      this.opener = null;
    });
  }

  async open(attachment, opener) {
    const dialog = $("image-viewer");
    const img = $("image-viewer-image");
    const link = $("image-viewer-download");
    const status = $("image-viewer-status");
    this.opener = opener;
    this.showing = attachment.id;
    $("image-viewer-title").textContent = attachment.name;
    img.alt = attachment.name;
    const natural = fitWithin(attachment.width, attachment.height, Number.MAX_SAFE_INTEGER);
    if (natural) {
      img.width = natural.width;
      img.height = natural.height;
    } else {
      img.removeAttribute("width");
      img.removeAttribute("height");
    }
    // The thumbnail at once, the whole picture when it is here.
    const thumb = this.cache.readyThumbnail(attachment.id);
    if (thumb) img.src = thumb.url;
    else img.removeAttribute("src");
    link.hidden = true;
    status.textContent = "Loading the full image\u2026";
    if (!dialog.open) dialog.showModal();
    $("image-viewer-close").focus();
    try {
      const url = await this.cache.url(attachment);
      if (this.showing !== attachment.id) return;
      img.src = url;
      link.href = url;
      link.download = attachment.name;
      link.setAttribute("aria-label", `Download ${attachment.name}, ${formatBytes(attachment.size)}`);
      link.hidden = false;
      status.textContent = "";
    } catch (error) {
      if (this.showing === attachment.id && error?.name !== "AbortError") status.textContent = `Could not load the image: ${describeError(error)}`;
    }
  }
}

export { THUMB_MAX };
