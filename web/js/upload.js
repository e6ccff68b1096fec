// One file's way to the server: announced to Parley (POST /conversations/{id}/attachments, with
// the picture's size for images, which only the browser can read), then its bytes PUT to the
// address Parley answers with: Parley itself, or a presigned URL of an S3-compatible store on
// another origin. The PUT goes by XMLHttpRequest, the one browser API that reports upload
// progress, and carries exactly the headers Parley named and no access token (the URL is the
// permission, and a store must not see the token).

import { ApiError } from "./api.js?v=dev";
import { isInlineImage, makeThumbnail } from "./thumbnails.js?v=dev";

/** Headers a page cannot set (the browser sets them itself from the request). */
const BROWSER_HEADERS = new Set(["content-length", "host", "connection", "accept-encoding", "expect"]);

export class UploadAborted extends Error {
  constructor() {
    super("The upload was cancelled.");
    this.name = "AbortError";
  }
}

/**
 * Starts uploading `file` to a conversation. `onPreview(thumbnail)` gets the image's thumbnail
 * ({blob, width, height, natural}) as soon as it is made; `onProgress(fraction)` follows the
 * bytes. Returns {promise, abort}: the promise gives {attachment, thumbnail} once the bytes are
 * stored, and rejects with an ApiError (its message the server's) or UploadAborted.
 */
export function startUpload(api, conversationId, file, { onPreview = () => {}, onProgress = () => {} } = {}) {
  let aborted = false;
  let xhr = null;
  const check = () => { if (aborted) throw new UploadAborted(); };
  const promise = (async () => {
    const contentType = file.type || "application/octet-stream";
    let thumbnail = null;
    if (isInlineImage(contentType)) {
      // A file named .png that is not one is still sent, as a file without a size.
      thumbnail = await makeThumbnail(file).catch(() => null);
      check();
      if (thumbnail) onPreview(thumbnail);
    }
    const created = await api.createAttachment(conversationId, {
      name: file.name || "file", size: file.size, contentType,
      width: thumbnail?.natural.width ?? null, height: thumbnail?.natural.height ?? null,
    });
    check();
    const upload = created?.upload;
    if (!created?.attachment?.id || !upload?.url) throw new ApiError(0, "internal", "The server did not say where to upload the file.");
    await new Promise((resolve, reject) => {
      xhr = new XMLHttpRequest();
      xhr.open(upload.method || "PUT", upload.url);
      for (const [name, value] of Object.entries(upload.headers ?? {})) {
        if (!BROWSER_HEADERS.has(name.toLowerCase())) xhr.setRequestHeader(name, String(value));
      }
      xhr.upload.onprogress = (event) => { if (event.lengthComputable && event.total) onProgress(event.loaded / event.total); };
      xhr.onload = () => (xhr.status >= 200 && xhr.status < 300 ? resolve() : reject(storageError(xhr)));
      xhr.onerror = () => reject(new ApiError(0, "network", "The upload was interrupted. Check your connection and retry."));
      xhr.ontimeout = xhr.onerror;
      xhr.onabort = () => reject(new UploadAborted());
      xhr.send(file);
    });
    onProgress(1);
    return { attachment: created.attachment, thumbnail };
  })();
  return {
    promise,
    abort() {
      aborted = true;
      if (xhr && xhr.readyState !== XMLHttpRequest.DONE) xhr.abort();
    },
  };
}

/** The refusal of a PUT in words: Parley's JSON error, an S3 store's XML <Message>, or the status. */
function storageError(xhr) {
  const text = xhr.responseText ?? "";
  try {
    const error = JSON.parse(text)?.error;
    if (error?.code) return new ApiError(xhr.status, error.code, error.message || error.code, error.field ?? null);
  } catch { /* not JSON */ }
  const message = /<Message>([^<]{1,300})<\/Message>/.exec(text)?.[1];
  const code = /<Code>([^<]{1,100})<\/Code>/.exec(text)?.[1];
  return new ApiError(xhr.status, code ?? "upload_failed",
    message ? `The file store refused the upload: ${message}` : `The upload failed (the store answered ${xhr.status}).`);
}
