// DOM helpers of the otel-audit dashboard. They build nodes only with
// createElement / createElementNS and text nodes: a string given as a child
// always becomes text, never markup, so record values cannot inject HTML.

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

/** A record value as display text: strings as they are, anything else as JSON. */
export const text = (v) => (v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v));

