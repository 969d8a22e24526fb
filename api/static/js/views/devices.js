// Devices: when each meter was last heard of, whether it is online, the collector's poll
// latency and failed polls, and the quality flags of each point's newest reading.

import { get } from "../api.js";
import { fill, h, note, table } from "../dom.js";
import { ago, num, when, zoneLabel } from "../format.js";

const REFRESH_MS = 5000;

export async function render(root, ctx) {
  const { site } = ctx;
  root.append(h("h2", {}, `${site.name || site.key}: devices`), note(`Times in ${zoneLabel(site.timezone)}.`));
  const box = h("div", { class: "panel" });
  root.append(box);
  const load = async () => fill(box, ...view(await get(`/sites/${site.key}/devices`), site.timezone));
  await load();
  const timer = setInterval(() => load().catch(console.error), REFRESH_MS);
  return () => clearInterval(timer);
}

function view(data, zone) {
  const now = new Date(data.as_of).getTime();
  const rows = data.items.map((d) => h("tr", { dataset: { device: d.meter } },
    h("th", { scope: "row", class: "wrap" }, d.meter, h("div", { class: "note" }, d.name)),
    h("td", {}, h("span", { class: "status", dataset: { online: String(d.online) } }, d.online ? "online" : "offline")),
    h("td", {}, when(d.last_seen, zone), h("div", { class: "note" }, ago(d.last_seen, now))),
    h("td", { class: "num" }, num(d.expected_interval, "s", 0)),
    h("td", {}, d.source ?? "MQTT / other"),
    h("td", { class: "num" }, num(d.poll_latency_ms, "ms", 1)),
    h("td", { class: "num" }, d.errors ?? "–"),
    h("td", {}, d.points.map((p) => h("div", { dataset: { point: p.point } },
      `${p.point} `,
      p.quality ? p.quality.map((f) => h("span", { class: f === "good" ? "flag" : "flag bad" }, f)) : h("span", { class: "flag" }, "no reading"))))));
  return [
    data.collector ? null : note("No collector reports in this API process: poll latency and errors are unknown here."),
    table(["meter", "state", "last seen", "interval", "source", "poll latency (source mean)", "failed polls", "newest reading per point"], rows),
  ];
}
