// Build DOM nodes without innerHTML: text is always text, and no inline style attributes,
// which the page's Content-Security-Policy (api/dashboard.py) would refuse.

/** h("td", {class: "num", dataset: {point: 3}, onclick: f}, "12", child) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace an element's content. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A table in a horizontally scrolling box (wide tables must not widen the page). */
export function table(head, rows, caption) {
  return h(
    "div",
    { class: "scroll" },
    h(
      "table",
      {},
      caption ? h("caption", { class: "note" }, caption) : null,
      h("thead", {}, h("tr", {}, head.map((c) => (c instanceof Node ? c : h("th", { scope: "col" }, c))))),
      h("tbody", {}, rows),
    ),
  );
}

export function note(text) {
  return h("p", { class: "note" }, text);
}

export function errorText(err) {
  return h("p", { class: "error", role: "alert" }, String(err.message || err));
}
