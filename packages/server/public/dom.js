// DOM helpers of the otel-audit dashboard. They build nodes only with
// createElement / createElementNS and text nodes: a string given as a child
// always becomes text, never markup, so record values cannot inject HTML.
// `text` is the one way record-derived text reaches the page: it also shows
// bidi and invisible formatting controls as visible escapes, so an actor id
// like "\u202Eecila" cannot display as "alice".

const SVG = 'http://www.w3.org/2000/svg';

/** An element with attributes and text/element children (strings become text nodes). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'className') node.className = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return node;
}

/** An SVG element with attributes. */
export function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

// What core's escapeTerminalText escapes for the CLI and the console: C0 and C1 controls, DEL,
// U+2028/U+2029, every format character (\p{Cf}: bidi embeddings, overrides, isolates and marks,
// zero-width characters, word joiner, soft hyphen, tag characters) and lone surrogates. They
// reorder or hide what is shown, so `alice\u2060` cannot pass for `alice`.
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\p{Cf}\p{Cs}]/gu;
const unit = (c, i) => `\\u${c.charCodeAt(i).toString(16).toUpperCase().padStart(4, '0')}`;
const escape = (c) => (c.length === 1 ? unit(c, 0) : unit(c, 0) + unit(c, 1));

/**
 * A record value as display text: strings as they are, anything else as
 * JSON — with every bidi or invisible formatting control replaced by its
 * visible escape (`\u202E`).
 */
export const text = (v) => (v === undefined || v === null ? '' : (typeof v === 'string' ? v : JSON.stringify(v)).replace(CONTROLS, escape));


/**
 * Make `node` open something on click and, focusable, on Enter or Space —
 * as the log rows and alert items do.
 */
export function openable(node, open) {
  node.tabIndex = 0;
  node.addEventListener('click', () => open());
  node.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Enter' && ev.key !== ' ') return;
    ev.preventDefault();
    open();
  });
  return node;
}

/** Milliseconds of an API record item's time (`record.time`, Unix nanoseconds). */
export function recordMillis(item) {
  try {
    return Number(BigInt(item.record.time) / 1000000n);
  } catch {
    return Number.NaN; // not a decimal string: a damaged or forged record, shown by its timestamp text
  }
}

const pad = (n, width = 2) => String(n).padStart(width, '0');

/**
 * A time as the dashboard shows it: the browser's local time, like the
 * from/to inputs and the chart, `YYYY-MM-DD HH:MM:SS.mmm` (seconds dropped with `seconds` false).
 */
export function localTime(ms, seconds = true) {
  const d = new Date(ms);
  const day = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return seconds ? `${day}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}` : day;
}
