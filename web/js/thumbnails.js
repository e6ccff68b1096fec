// Images made small in the browser: the server never decodes an image (it only stores bytes), so
// the size a sender reports and the thumbnails everyone sees are computed here, from the decoded
// picture, with createImageBitmap and a canvas.

/** The largest box a thumbnail is shown in, in CSS pixels. */
export const THUMB_MAX = 360;

/** Image types shown inline. SVG is not among them: it is a document that can carry script, so
 * it is offered as a file to download, never drawn in the page. */
export const INLINE_IMAGE_TYPES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp"]);

export function isInlineImage(contentType) {
  return INLINE_IMAGE_TYPES.has(String(contentType ?? "").split(";")[0].trim().toLowerCase());
}

/** `width` x `height` scaled down (never up) to fit in `max` x `max`, in whole pixels. */
export function fitWithin(width, height, max = THUMB_MAX) {
  if (!(width > 0) || !(height > 0)) return null;
  const scale = Math.min(1, max / width, max / height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** The picture's own size, or null when the browser cannot decode it. */
export async function imageSize(blob) {
  try {
    const bitmap = await createImageBitmap(blob);
    const size = { width: bitmap.width, height: bitmap.height };
    bitmap.close();
    return size;
  } catch {
    return null;
  }
}

/**
 * A thumbnail of `blob` fitting in THUMB_MAX CSS pixels (drawn at up to twice that for sharp
 * high-density screens): {blob, width, height}, where width/height are the CSS size to show it
 * at and the picture's own size is `natural`. A picture that already fits is returned as it is
 * (an animated GIF stays animated). Throws when the image cannot be decoded.
 */
export async function makeThumbnail(blob) {
  const bitmap = await createImageBitmap(blob);
  try {
    const natural = { width: bitmap.width, height: bitmap.height };
    const shown = fitWithin(natural.width, natural.height);
    const density = Math.min(2, Math.max(1, globalThis.devicePixelRatio || 1));
    const drawn = fitWithin(natural.width, natural.height, Math.round(THUMB_MAX * density));
    if (drawn.width >= natural.width && drawn.height >= natural.height) return { blob, ...shown, natural };
    const canvas = typeof OffscreenCanvas === "function"
      ? new OffscreenCanvas(drawn.width, drawn.height)
      : Object.assign(document.createElement("canvas"), { width: drawn.width, height: drawn.height });
    const context = canvas.getContext("2d");
    context.imageSmoothingEnabled = true;
    context.imageSmoothingQuality = "high";
    context.drawImage(bitmap, 0, 0, drawn.width, drawn.height);
    // WebP keeps transparency and is small; a browser that cannot write it gives PNG instead.
    const small = canvas.convertToBlob
      ? await canvas.convertToBlob({ type: "image/webp", quality: 0.86 })
      : await new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("no thumbnail"))), "image/webp", 0.86));
    return { blob: small, ...shown, natural };
  } finally {
    bitmap.close();
  }
}
