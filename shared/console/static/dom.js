// dom.js builds the console's views with the DOM API and text nodes only: what
// comes from X (post text, names, handles) is never parsed as HTML.

// h returns a new element: h('button', {class: 'x', onclick: f}, 'text', child…).
// Attributes whose name starts with "on" are listeners; others are set as
// attributes (false, null and undefined leave them out). Children are nodes or
// strings (made text nodes), arrays are flattened, null and false skipped.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// replace empties el and puts children in it.
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}
