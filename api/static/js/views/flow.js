// Energy flow: each carrier's meter tree from the main meters down to workshops, lines and
// equipment, with the live rate of each meter and the unmetered remainder at each level.
// Drawn as an indented tree with proportional bars rather than a Sankey diagram: a tree
// stays readable at phone width and with any depth, needs no layout library, and shows
// the remainder as a row of its own where it belongs.

import { get } from "../api.js";
import { fill, h, note } from "../dom.js";
import { carrierName, colour, cssVar, num, percent, when, zoneLabel } from "../format.js";

const REFRESH_MS = 2000; // at most one tree request per 2 s, however many values arrive

export async function render(root, ctx) {
  const { site } = ctx;
  root.append(
    h("h2", {}, `${site.name || site.key}: energy flow`),
    note(`Newest power or flow of each meter; the unmetered remainder is what a meter's ` +
      `sub-meters do not account for. Times in ${zoneLabel(site.timezone)}.`),
  );
  const box = h("div", { id: "flow-trees" });
  const stamp = h("p", { class: "note", dataset: { stamp: "" } });
  root.append(box, stamp);
  let ids = new Set();
  let timer = null;

  async function refresh() {
    timer = null;
    const flow = await get(`/sites/${site.key}/flow`);
    ids = new Set();
    fill(box, flow.carriers.map((c) => carrierTree(c, ids)));
    stamp.textContent = `updated ${when(new Date().toISOString(), site.timezone)}`;
  }

  await refresh();
  const unsubscribe = ctx.live.subscribe((v) => {
    if (ids.has(v.point_id) && !timer) timer = setTimeout(() => refresh().catch(console.error), REFRESH_MS);
  });
  return () => {
    unsubscribe();
    if (timer) clearTimeout(timer);
  };
}

function carrierTree(carrier, ids) {
  const swatch = h("span", { class: "swatch", "aria-hidden": "true" });
  swatch.style.background = colour(carrier.carrier);
  return h("section", { class: "panel", "aria-label": carrierName(carrier.carrier) },
    h("h3", {}, swatch, carrierName(carrier.carrier)),
    h("ul", { class: "tree" }, carrier.roots.map((n) => node(n, null, carrier.carrier, ids))));
}

function node(n, parentServed, carrier, ids, kind = "") {
  if (n.point_id !== null) ids.add(n.point_id);
  const total = parentServed ?? n.served ?? n.value;
  const rows = [
    h("div", { class: `node ${kind}`, dataset: { meter: n.meter } },
      h("span", { class: "name" }, n.name || n.meter, n.name ? h("span", { class: "note" }, ` ${n.meter}`) : null),
      h("span", { class: "val", title: n.ts ? `read ${n.ts}` : "no reading yet" }, num(n.value, n.unit)),
      bar(n.value, total, colour(carrier))),
  ];
  const children = [
    ...n.generation.map((g) => node(g, n.served, carrier, ids, "generation")),
    ...n.children.map((c) => node(c, n.served, carrier, ids)),
  ];
  if (n.children.length) {
    children.push(h("li", {},
      h("div", { class: "node remainder", dataset: { remainder: n.meter } },
        h("span", { class: "name" }, `unmetered remainder (${percent(n.unmetered_share)} of ${num(n.served, n.unit)})`),
        h("span", { class: "val" }, num(n.unmetered, n.unit)),
        bar(n.unmetered, n.served, cssVar("c-remainder")))));
  }
  return h("li", {}, rows, children.length ? h("ul", {}, children) : null);
}

function bar(value, total, tint) {
  const outer = h("span", { class: "barline", "aria-hidden": "true" });
  if (value !== null && total) {
    const inner = h("span");
    inner.style.width = `${Math.max(0, Math.min(100, (100 * value) / total))}%`;
    inner.style.background = tint;
    outer.append(inner);
  }
  return outer;
}
