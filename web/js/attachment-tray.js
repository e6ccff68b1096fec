// Files waiting to go with the next message, above the message box. They come from the attach
// button's file picker, from a drop on the conversation, or from a paste (a screenshot, copied
// files); each starts uploading at once (upload.js) and shows its name, size, a preview for a
// picture, its progress, and a button that cancels the upload or removes the file; a failed one
// says why, in the server's words, and offers Retry. Trays are kept per conversation (files are
// uploaded to one conversation and can only be sent there), like the drafts.

import { describeError } from "./api.js?v=dev";
import { $, h, showAlert } from "./dom.js?v=dev";
import { formatBytes, fileBadge } from "./attachments.js?v=dev";
import { startUpload } from "./upload.js?v=dev";

/** The most files one message may carry (the server refuses more). */
export const MAX_PER_MESSAGE = 10;

let nextKey = 1;

export class AttachmentTray {
  /** `onChange()` is told whenever what the open conversation's tray allows (sending) may have changed. */
  constructor({ api, store, onChange = () => {} }) {
    this.api = api;
    this.store = store;
    this.onChange = onChange;
    this.trays = new Map();   // conversationId -> [item]
    this.shown = null;        // the conversation whose tray is on screen
    this.user = null;         // whose trays `trays` holds
    this.#bindSources();
  }

  // MARK: the open conversation

  /** Shows a conversation's own tray (null: none). */
  show(conversationId) {
    const user = this.store.me?.id ?? null;
    if (user !== this.user) {
      this.discardAll();
      this.user = user;
    }
    this.shown = conversationId;
    this.#render();
  }

  /** What the conversation's tray holds: files ready to send, still uploading, or failed. */
  state(conversationId) {
    const items = this.trays.get(conversationId) ?? [];
    const count = (state) => items.filter((item) => item.state === state).length;
    return { total: items.length, ready: count("done"), uploading: count("preparing") + count("uploading"), failed: count("failed") };
  }

  /** Hands the uploaded files over to a message being sent, and empties the tray:
   * [{attachment, file, thumbnail}]. */
  take(conversationId) {
    const items = this.trays.get(conversationId) ?? [];
    const taken = items.filter((item) => item.state === "done")
      .map(({ attachment, file, thumbnail }) => ({ attachment, file, thumbnail }));
    this.discard(conversationId);
    return taken;
  }

  /** Drops a conversation's tray, cancelling its uploads. */
  discard(conversationId) {
    for (const item of this.trays.get(conversationId) ?? []) this.#dispose(item);
    this.trays.delete(conversationId);
    if (conversationId === this.shown) this.#render();
  }

  discardAll() {
    for (const id of [...this.trays.keys()]) this.discard(id);
  }

  // MARK: adding files

  /** Adds files to the open conversation's tray (up to MAX_PER_MESSAGE) and starts their uploads. */
  add(fileList) {
    const conversationId = this.store.activeId;
    const files = [...(fileList ?? [])].filter((file) => file instanceof Blob);
    if (!conversationId || files.length === 0) return;
    if (this.shown !== conversationId) this.show(conversationId);
    if (!this.trays.has(conversationId)) this.trays.set(conversationId, []);
    const items = this.trays.get(conversationId);
    const room = MAX_PER_MESSAGE - items.length;
    if (files.length > room) {
      const left = files.length - Math.max(0, room);
      showAlert(`A message can carry ${MAX_PER_MESSAGE} files at most: ${left} ${left === 1 ? "file was" : "files were"} not added. Send these first, then the rest.`,
        { kind: "info", timeoutMs: 10_000 });
    }
    for (const file of files.slice(0, Math.max(0, room))) {
      const item = { key: nextKey++, conversationId, file, name: file.name || "file", size: file.size, state: "preparing",
        progress: 0, error: null, attachment: null, thumbnail: null, previewUrl: null, job: null, node: null };
      items.push(item);
      this.#upload(item);
    }
    this.#render();
    this.onChange();
  }

  #upload(item) {
    item.state = "preparing";
    item.progress = 0;
    item.error = null;
    const job = startUpload(this.api, item.conversationId, item.file, {
      onPreview: (thumbnail) => {
        item.thumbnail = thumbnail;
        if (!item.previewUrl) item.previewUrl = URL.createObjectURL(thumbnail.blob);
        this.#update(item);
      },
      onProgress: (fraction) => {
        item.state = "uploading";
        item.progress = fraction;
        this.#update(item);
      },
    });
    item.job = job;
    job.promise.then(({ attachment }) => {
      if (item.job !== job) return;
      item.job = null;
      item.attachment = attachment;
      item.state = "done";
      this.#announce(`${item.name} is uploaded.`);
      this.#changed(item);
    }, (error) => {
      if (item.job !== job || error?.name === "AbortError") return;
      item.job = null;
      item.state = "failed";
      item.error = describeError(error);
      this.#announce(`${item.name} was not uploaded: ${item.error}`);
      this.#changed(item);
    });
  }

  #retry(item) {
    this.#upload(item);
    this.#changed(item);
    item.node?.querySelector(".tray-remove")?.focus(); // Retry is gone; focus stays in the item
  }

  /** Cancels an upload under way, or takes a file out of the tray. */
  #remove(item) {
    const items = this.trays.get(item.conversationId) ?? [];
    const index = items.indexOf(item);
    if (index < 0) return;
    const cancelled = item.state === "preparing" || item.state === "uploading";
    items.splice(index, 1);
    this.#dispose(item);
    if (items.length === 0) this.trays.delete(item.conversationId);
    this.#announce(cancelled ? `Upload of ${item.name} cancelled.` : `${item.name} removed.`);
    this.#render();
    this.onChange();
    // Focus to the next file's button, or back to the message box.
    const next = items[index] ?? items[index - 1];
    (next?.node?.querySelector(".tray-remove") ?? $("composer-input")).focus();
  }

  #dispose(item) {
    const job = item.job;
    item.job = null;
    job?.abort();
    if (item.previewUrl) URL.revokeObjectURL(item.previewUrl);
    item.previewUrl = null;
  }

  // MARK: drawing

  #changed(item) {
    this.#update(item);
    if (item.conversationId === this.shown) this.#renderNote();
    this.onChange();
  }

  #render() {
    const list = $("attachment-tray");
    const items = this.trays.get(this.shown) ?? [];
    for (const item of items) if (!item.node) this.#build(item);
    list.replaceChildren(...items.map((item) => item.node));
    list.hidden = items.length === 0;
    this.#renderNote();
  }

  /** One file's entry, built once; `#update` changes its parts in place (focus survives). */
  #build(item) {
    const badge = fileBadge(item.name, item.file.type);
    const preview = h("span", { class: "tray-preview" },
      h("span", { class: `file-icon kind-${badge.kind}`, "aria-hidden": "true" }, badge.label));
    const progress = h("progress", { class: "tray-progress", max: "100", value: "0", "aria-label": `Uploading ${item.name}` });
    const detail = h("span", { class: "tray-detail" });
    const retry = h("button", { type: "button", class: "small tray-retry", "aria-label": `Retry uploading ${item.name}`, onclick: () => this.#retry(item) }, "Retry");
    const remove = h("button", { type: "button", class: "small ghost tray-remove", onclick: () => this.#remove(item) }, "\u00d7");
    item.node = h("li", { class: "tray-item", dataset: { name: item.name } },
      preview,
      h("span", { class: "tray-text" }, h("span", { class: "tray-name", title: item.name }, item.name), detail, progress),
      retry, remove);
    item.parts = { preview, progress, detail, retry, remove };
    this.#update(item);
  }

  #update(item) {
    const parts = item.parts;
    if (!parts) return;
    const { preview, progress, detail, retry, remove } = parts;
    item.node.className = `tray-item ${item.state}`;
    if (item.previewUrl && !preview.querySelector("img")) {
      preview.replaceChildren(h("img", { src: item.previewUrl, alt: "" }));
    }
    const busy = item.state === "preparing" || item.state === "uploading";
    const percent = Math.round(item.progress * 100);
    progress.hidden = !busy;
    if (item.state === "uploading") progress.value = percent;
    else progress.removeAttribute("value"); // indeterminate while the upload is being set up
    const size = formatBytes(item.size);
    const text = item.state === "failed" ? `Not uploaded: ${item.error}`
      : item.state === "done" ? `${size} \u00b7 ready to send`
        : item.state === "uploading" ? `${size} \u00b7 uploading ${percent}%`
          : `${size} \u00b7 starting upload\u2026`;
    if (detail.textContent !== text) detail.textContent = text;
    detail.classList.toggle("error", item.state === "failed");
    retry.hidden = item.state !== "failed";
    const label = busy ? `Cancel upload of ${item.name}` : `Remove ${item.name}`;
    if (remove.getAttribute("aria-label") !== label) {
      remove.setAttribute("aria-label", label);
      remove.title = busy ? "Cancel upload" : "Remove";
    }
  }

  /** The line under the tray: why Send waits, in words. */
  #renderNote() {
    const { total, uploading, failed } = this.state(this.shown);
    let text = "";
    if (failed) text = `${failed === 1 ? "A file was" : `${failed} files were`} not uploaded: retry or remove ${failed === 1 ? "it" : "them"} to send your message.`;
    else if (uploading) text = `Uploading ${uploading} ${uploading === 1 ? "file" : "files"}\u2026 You can send when ${uploading === 1 ? "it is" : "they are"} uploaded.`;
    else if (total >= MAX_PER_MESSAGE) text = `${MAX_PER_MESSAGE} files is the most one message can carry.`;
    const note = $("attachment-note");
    if (note.textContent !== text) note.textContent = text;
    note.classList.toggle("error", failed > 0);
  }

  /** Says what happened to a file to screen readers (the tray shows it too). */
  #announce(text) {
    const region = $("attachment-announcer");
    // Cleared first, so the same words said twice are announced twice.
    region.textContent = "";
    setTimeout(() => { region.textContent = text; }, 50);
  }

  // MARK: where files come from

  #bindSources() {
    const input = $("attach-input");
    $("attach-button").addEventListener("click", () => input.click());
    input.addEventListener("change", () => {
      this.add(input.files);
      input.value = ""; // the same file may be chosen again
    });

    // Paste: a screenshot or copied files become attachments. Rich text copied from an office
    // program also carries a picture of itself; there the text is what was meant.
    const view = $("conversation-view");
    view.addEventListener("paste", (event) => {
      const data = event.clipboardData;
      const files = [...(data?.files ?? [])];
      if (!files.length || !this.store.activeId) return;
      const types = [...(data.types ?? [])];
      if (types.includes("text/plain") && types.includes("text/html") && data.getData("text/plain").trim()) return;
      event.preventDefault();
      this.add(files.map(namePasted));
    });

    // Drag and drop onto the conversation, highlighted while files are over it.
    let depth = 0;
    const carriesFiles = (event) => [...(event.dataTransfer?.types ?? [])].includes("Files");
    const highlight = (on) => view.classList.toggle("dropping", on);
    view.addEventListener("dragenter", (event) => {
      if (!carriesFiles(event) || !this.store.activeId) return;
      event.preventDefault();
      depth += 1;
      highlight(true);
    });
    view.addEventListener("dragover", (event) => {
      if (!carriesFiles(event) || !this.store.activeId) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
    });
    view.addEventListener("dragleave", (event) => {
      if (!carriesFiles(event)) return;
      depth = Math.max(0, depth - 1);
      if (depth === 0) highlight(false);
    });
    view.addEventListener("drop", (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      depth = 0;
      highlight(false);
      this.add(event.dataTransfer.files);
    });
    // Leaving the page ends the uploads under way: the browser asks first.
    addEventListener("beforeunload", (event) => {
      const busy = [...this.trays.values()].some((items) => items.some((item) => item.state === "preparing" || item.state === "uploading"));
      if (busy) event.preventDefault();
    });
    // A file dropped beside the conversation would make the browser leave the app to show it.
    for (const type of ["dragover", "drop"]) {
      addEventListener(type, (event) => { if (carriesFiles(event) && !event.defaultPrevented) event.preventDefault(); });
    }
  }
}

/** A pasted picture is called "image.png" by the browser: a name with the time tells several apart. */
function namePasted(file) {
  if (!/^image\.\w+$/i.test(file.name ?? "") || !file.type.startsWith("image/")) return file;
  const stamp = new Date().toISOString().slice(0, 19).replace("T", " ").replaceAll(":", ".");
  return new File([file], `Pasted image ${stamp}.${file.name.split(".").pop()}`, { type: file.type, lastModified: file.lastModified });
}
