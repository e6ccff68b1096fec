// Attachments' bytes held in the page as blob: URLs. An attachment's URL needs the access token
// (an <img src> cannot send it), so each file is fetched by Api.download (which asks Parley where
// the bytes are and sends the token to Parley's origin only) and shown from a blob: URL. Only the
// bytes are kept, never where they were: a store's presigned URL expires within minutes.
// They are kept by attachment id, so a message redrawn (a read marker, an edit) shows its image
// at once without a second download, and released (URLs revoked, downloads stopped) when the
// messages showing them go: another conversation opened, a message deleted.

import { makeThumbnail } from "./thumbnails.js?v=dev";

/** Downloads at once: a thread full of pictures does not open fifty connections. */
const PARALLEL = 4;

export class AttachmentCache {
  constructor(api) {
    this.api = api;
    this.entries = new Map(); // attachment id -> entry (see #entry)
    this.running = 0;
    this.waiting = [];
  }

  #entry(id) {
    let entry = this.entries.get(id);
    if (!entry) {
      entry = { blob: null, url: null, thumb: null, thumbReady: null, controller: new AbortController(), urls: [] };
      this.entries.set(id, entry);
    }
    return entry;
  }

  /** The sender's own file, known before it is sent: no download, and its thumbnail already made. */
  seed(attachment, blob, thumbnail = null) {
    const entry = this.#entry(attachment.id);
    if (!entry.blob) entry.blob = Promise.resolve(blob);
    if (thumbnail && !entry.thumb) {
      const ready = { url: this.#url(entry, thumbnail.blob), width: thumbnail.width, height: thumbnail.height };
      entry.thumbReady = ready;
      entry.thumb = Promise.resolve(ready);
    }
  }

  /** The attachment's bytes (downloaded once). */
  blob(attachment) {
    const entry = this.#entry(attachment.id);
    entry.blob ??= this.#limited(() => this.api.download(attachment.url, { signal: entry.controller.signal }));
    entry.blob.catch(() => { if (this.entries.get(attachment.id) === entry) entry.blob = null; }); // a failure may be retried
    return entry.blob;
  }

  /** A blob: URL of the whole file (for the image viewer and downloads). */
  async url(attachment) {
    const entry = this.#entry(attachment.id);
    const blob = await this.blob(attachment);
    if (entry.released) throw new DOMException("released", "AbortError");
    entry.url ??= this.#url(entry, blob);
    return entry.url;
  }

  /** {url, width, height} of a thumbnail made in the browser (see thumbnails.js). */
  thumbnail(attachment) {
    const entry = this.#entry(attachment.id);
    entry.thumb ??= (async () => {
      const blob = await this.blob(attachment);
      let made;
      try {
        made = await makeThumbnail(blob);
      } catch (error) {
        entry.undecodable = true; // the bytes are here but are no picture this browser draws
        throw error;
      }
      if (entry.released) throw new DOMException("released", "AbortError");
      entry.thumbReady = { url: this.#url(entry, made.blob), width: made.width, height: made.height };
      return entry.thumbReady;
    })();
    // A download that failed may be tried again on the next redraw; a picture that cannot be decoded is not.
    entry.thumb.catch(() => { if (this.entries.get(attachment.id) === entry && !entry.thumbReady && !entry.undecodable) entry.thumb = null; });
    return entry.thumb;
  }

  /** Whether the attachment's bytes turned out not to be a picture the browser can draw. */
  undecodable(id) {
    return this.entries.get(id)?.undecodable === true;
  }

  /** The thumbnail if it is made already, so a redrawn message shows it without a blank frame. */
  readyThumbnail(id) {
    return this.entries.get(id)?.thumbReady ?? null;
  }

  /** Releases every attachment not in `ids` (those the open thread still shows). */
  retain(ids) {
    for (const id of [...this.entries.keys()]) if (!ids.has(id)) this.#release(id);
  }

  releaseAll() {
    for (const id of [...this.entries.keys()]) this.#release(id);
  }

  #release(id) {
    const entry = this.entries.get(id);
    this.entries.delete(id);
    if (!entry) return;
    entry.released = true;
    entry.controller.abort();
    for (const url of entry.urls) URL.revokeObjectURL(url);
  }

  #url(entry, blob) {
    const url = URL.createObjectURL(blob);
    entry.urls.push(url);
    return url;
  }

  /** Runs `task` when fewer than PARALLEL downloads are under way. */
  async #limited(task) {
    if (this.running >= PARALLEL) await new Promise((resolve) => this.waiting.push(resolve));
    this.running += 1;
    try {
      return await task();
    } finally {
      this.running -= 1;
      this.waiting.shift()?.();
    }
  }
}
