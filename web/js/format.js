// Message text to DOM: a small, safe subset of formatting (```code blocks```, `inline code`,
// **bold**, *italics* or _italics_, "> " quotes) and clickable links. Everything is built with
// createElement and text nodes, never innerHTML, so message text can never become markup; links
// are only http(s) and mailto, open in a new tab, and carry rel="noopener noreferrer".

/** The longest message the server takes (Swift `String.count`: user-perceived characters). */
export const MAX_MESSAGE_CHARS = 4000;

const segmenter = typeof Intl !== "undefined" && Intl.Segmenter ? new Intl.Segmenter() : null;

/** Characters as the server counts them (grapheme clusters). */
export function characterCount(text) {
  if (!segmenter) return [...text].length;
  let count = 0;
  for (const _ of segmenter.segment(text)) count += 1; // eslint-disable-line no-unused-vars
  return count;
}

const SAFE_PROTOCOLS = new Set(["http:", "https:", "mailto:"]);

/** The URL a link may point to, or null for anything but http(s)/mailto. */
export function safeUrl(text) {
  try {
    const url = new URL(text);
    return SAFE_PROTOCOLS.has(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

// Inline tokens, in priority order: code, bold, italics (* or _, not inside words), links.
const INLINE = /(`[^`\n]+`)|(\*\*(?=\S)[^*\n]*?\S\*\*)|((?<![\w*])\*(?=[^\s*])[^*\n]*?[^\s*]\*(?![\w*])|(?<![\w*])\*[^\s*]\*(?![\w*]))|((?<!\w)_(?=\S)[^_\n]*?\S_(?!\w)|(?<!\w)_[^\s_]_(?!\w))|((?:https?:\/\/|mailto:)[^\s<>"]+)/g;

function link(raw) {
  // Trailing punctuation is the sentence's, not the address's.
  let text = raw;
  let rest = "";
  while (/[.,;:!?'")\]]$/.test(text)) {
    if (text.endsWith(")") && (text.match(/\(/g) ?? []).length >= (text.match(/\)/g) ?? []).length) break;
    rest = text.slice(-1) + rest;
    text = text.slice(0, -1);
  }
  const href = safeUrl(text);
  if (!href) return [document.createTextNode(raw)];
  const a = document.createElement("a");
  a.href = href;
  a.target = "_blank";
  a.rel = "noopener noreferrer";
  a.textContent = text;
  return rest ? [a, document.createTextNode(rest)] : [a];
}

/** Inline formatting of one run of text (no block structure). */
export function inlineNodes(text) {
  const nodes = [];
  let last = 0;
  for (const match of text.matchAll(INLINE)) {
    if (match.index > last) nodes.push(document.createTextNode(text.slice(last, match.index)));
    const [whole, code, bold, star, under, url] = match;
    if (code) {
      const element = document.createElement("code");
      element.textContent = code.slice(1, -1);
      nodes.push(element);
    } else if (bold) {
      const element = document.createElement("strong");
      element.append(...inlineNodes(bold.slice(2, -2)));
      nodes.push(element);
    } else if (star || under) {
      const element = document.createElement("em");
      element.append(...inlineNodes(whole.slice(1, -1)));
      nodes.push(element);
    } else if (url) {
      nodes.push(...link(url));
    }
    last = match.index + whole.length;
  }
  if (last < text.length) nodes.push(document.createTextNode(text.slice(last)));
  return nodes;
}

/** Lines of text with "> " quotes grouped into blockquotes. */
function textBlocks(text) {
  const nodes = [];
  const lines = text.split("\n");
  let i = 0;
  let plain = [];
  const flush = () => {
    if (plain.length) nodes.push(...inlineNodes(plain.join("\n")));
    plain = [];
  };
  while (i < lines.length) {
    if (/^>\s?/.test(lines[i])) {
      // A newline before the quote belongs to it being a block.
      if (plain.length && plain[plain.length - 1] === "") plain.pop();
      flush();
      const quoted = [];
      while (i < lines.length && /^>\s?/.test(lines[i])) quoted.push(lines[i++].replace(/^>\s?/, ""));
      const quote = document.createElement("blockquote");
      quote.append(...inlineNodes(quoted.join("\n")));
      nodes.push(quote);
      if (i < lines.length && lines[i] === "") i += 1;
    } else {
      plain.push(lines[i++]);
    }
  }
  flush();
  return nodes;
}

/** A message's content as DOM nodes. */
export function formatMessage(text) {
  const nodes = [];
  const fence = /```[^\S\n]*([^\n`]*)\n?([\s\S]*?)```/g;
  let last = 0;
  for (const match of text.matchAll(fence)) {
    let before = text.slice(last, match.index);
    if (before.endsWith("\n")) before = before.slice(0, -1);
    if (before) nodes.push(...textBlocks(before));
    const pre = document.createElement("pre");
    const code = document.createElement("code");
    // "```js\n...": a word right after the fence names the language; otherwise it is code.
    const body = match[2] !== "" || match[1] === "" ? match[2] : match[1];
    code.textContent = body.replace(/\n$/, "");
    pre.append(code);
    nodes.push(pre);
    last = match.index + match[0].length;
    if (text[last] === "\n") last += 1;
  }
  if (last < text.length) nodes.push(...textBlocks(text.slice(last)));
  return nodes;
}

/** The text a reader sees, without the formatting marks: for one-line previews (the conversation
 * list, notifications) where `**bold**` or a quote's `>` would otherwise show as typed. */
export function plainText(text) {
  const lines = text.replace(/```/g, "").split("\n").map((line) => line.replace(/^>\s?/, ""));
  const holder = document.createElement("span");
  holder.append(...inlineNodes(lines.join(" ")));
  return holder.textContent.replace(/\s+/g, " ").trim();
}
