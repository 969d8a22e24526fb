// Overview of one site: live power or flow per carrier, today's and month-to-date energy,
// month-to-date tCO2e on both scope-2 bases, data coverage, and devices offline.

import { get, series } from "../api.js";
import { errorText, fill, h, note } from "../dom.js";
import { carrierName, colour, dayAndMonthStart, num, percent, when, zoneLabel } from "../format.js";

export async function render(root, ctx) {
  const { site } = ctx;
  const zone = site.timezone;
  root.append(
    h("h2", {}, `${site.name || site.key}: overview`),
    note(`Times in ${zoneLabel(zone)}. Live values update as the meters report.`),
  );
  const cards = h("div", { class: "cards", id: "carrier-cards" });
  const ledgerCard = h("div", { class: "cards" });
  root.append(cards, h("h3", {}, "Month to date"), ledgerCard);

  // The cards come from the live tree alone, so live values show before the catalog loads.
  const flow = await get(`/sites/${site.key}/flow`);
  const carriers = flow.carriers.filter((c) => c.roots.some((r) => r.role === "main")).map((c) => c.carrier);
  const rates = new Map(); // point id -> {carrier, value}
  const shown = new Map(); // carrier -> element
  for (const carrier of carriers) {
    const roots = flow.carriers.find((c) => c.carrier === carrier)?.roots || [];
    const mains = roots.filter((r) => r.role === "main" && r.point_id !== null);
    for (const r of mains) rates.set(r.point_id, { carrier, value: r.value, unit: r.unit, ts: r.ts });
    const unit = mains[0]?.unit || "";
    const big = h("div", { class: "big", dataset: { live: carrier, unit } }, "–");
    const stamp = h("div", { class: "note", dataset: { liveTs: carrier } });
    shown.set(carrier, { big, stamp });
    const figures = h("dl", { class: "figures" }, h("dt", {}, "today"), h("dd", { dataset: { today: carrier } }, "…"),
      h("dt", {}, "month to date"), h("dd", { dataset: { mtd: carrier } }, "…"));
    const swatch = h("span", { class: "swatch", "aria-hidden": "true" });
    swatch.style.background = colour(carrier);
    cards.append(
      h("section", { class: "card", "aria-label": carrierName(carrier) },
        h("h3", {}, swatch, carrierName(carrier)),
        big,
        stamp,
        h("div", { class: "note" }, mains.length ? `${mains.map((m) => m.name).join(", ")}` : "no rate gauge"),
        figures),
    );
    paint(carrier);
  }

  function paint(carrier) {
    const parts = [...rates.values()].filter((r) => r.carrier === carrier);
    const { big, stamp } = shown.get(carrier);
    if (!parts.length) return;
    const missing = parts.some((r) => r.value === null || r.value === undefined);
    const total = parts.reduce((s, r) => s + (r.value || 0), 0);
    big.textContent = missing ? num(null, parts[0].unit) : num(total, parts[0].unit, 1);
    const newest = parts.map((r) => r.ts).filter(Boolean).sort().pop();
    stamp.textContent = newest ? `read ${when(newest, zone)}` : "no reading yet";
    if (!missing && !performance.getEntriesByName("first-live-value").length) {
      performance.mark("first-live-value"); // navigation start to a live value on screen
    }
  }

  const unsubscribe = ctx.live.subscribe((v) => {
    const known = rates.get(v.point_id);
    if (!known) return;
    known.value = v.value;
    known.ts = v.ts;
    paint(known.carrier);
  });

  ctx.catalog().then((catalog) => energy(catalog, carriers, zone, root)).catch((err) => root.append(errorText(err)));
  monthToDate(site, ledgerCard).catch((err) => fill(ledgerCard, errorText(err)));
  return unsubscribe;
}

/** Today's and month-to-date energy per carrier, from the main meters' counters. */
async function energy(catalog, carriers, zone, root) {
  const now = new Date();
  const { today, month } = dayAndMonthStart(zone, now);
  await Promise.all(
    carriers.map(async (carrier) => {
      const counters = catalog.mains(carrier).map((m) => catalog.counter(m)).filter(Boolean);
      const unit = counters[0]?.unit;
      const same = counters.filter((c) => c.unit === unit);
      const results = await Promise.all(same.map((c) => series(c.id, month, now, "1d")));
      let mtd = 0;
      let day = 0;
      for (const r of results) {
        for (const b of r.buckets) {
          const q = Number(b.consumption || 0);
          mtd += q;
          if (new Date(b.start) >= today) day += q;
        }
      }
      const label = carrier === "electricity" ? " grid import" : "";
      const t = root.querySelector(`[data-today="${carrier}"]`);
      const m = root.querySelector(`[data-mtd="${carrier}"]`);
      if (t) t.textContent = same.length ? num(day, unit) + label : "no counter";
      if (m) m.textContent = same.length ? num(mtd, unit) + label : "no counter";
    }),
  );
}

async function monthToDate(site, box) {
  fill(box, note("computing the month so far…"));
  const [mtd, devices] = await Promise.all([
    get(`/sites/${site.key}/month-to-date`),
    get(`/sites/${site.key}/devices`),
  ]);
  const offline = devices.items.filter((d) => !d.online);
  const zone = site.timezone;
  fill(
    box,
    h("section", { class: "card", "aria-label": "Emissions month to date" },
      h("h3", {}, `Emissions ${mtd.period}`),
      h("dl", { class: "figures" },
        h("dt", {}, "location-based"), h("dd", { dataset: { total: "location" } }, num(mtd.total_location, "tCO2e", 3)),
        h("dt", {}, "market-based"), h("dd", { dataset: { total: "market" } }, num(mtd.total_market, "tCO2e", 3)),
        h("dt", {}, "as of"), h("dd", {}, when(mtd.as_of, zone, false)))),
    h("section", { class: "card", "aria-label": "Data coverage" },
      h("h3", {}, "Data coverage"),
      h("div", { class: "big" }, percent(mtd.coverage)),
      note("lowest share of the month so far backed by readings, over all counters"),
      h("div", { class: "note" }, `${mtd.findings.length} finding(s)`)),
    h("section", { class: "card", "aria-label": "Devices offline" },
      h("h3", {}, "Devices offline"),
      h("div", { class: "big", dataset: { offline: String(offline.length) } }, `${offline.length} of ${devices.items.length}`),
      offline.length ? note(offline.map((d) => d.meter).join(", ")) : note("every meter reported recently"),
      h("a", { href: "#devices" }, "Devices")),
  );

}
