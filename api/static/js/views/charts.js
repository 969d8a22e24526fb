// Charts: power or flow over the last 24 h and 7 days, daily energy of the month, a
// load-profile heat map (hour × day), and emissions month by month by scope and carrier
// against the same months of the previous year.

import { get, series } from "../api.js";
import { chart } from "../charts.js";
import { errorText, fill, h, note, table } from "../dom.js";
import { carrierName, colour, cssVar, dayAndMonthStart, localMidnight, num, partsOf, zoneLabel } from "../format.js";
import { heatmap } from "../heatmap.js";

const HOUR = 3600 * 1000;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const HEAT_DAYS = 28;

export async function render(root, ctx) {
  const { site } = ctx;
  const catalog = await ctx.catalog();
  const carriers = catalog.carriers();
  const cleanups = [];
  root.append(h("h2", {}, `${site.name || site.key}: charts`), note(`Times in ${zoneLabel(site.timezone)}.`));
  const tabs = h("div", { class: "tabs", role: "group", "aria-label": "Carrier" });
  const body = h("div");
  const emissions = h("section", { class: "panel", "aria-label": "Emissions by month" });
  root.append(tabs, body, emissions);

  const pick = (carrier) => {
    for (const b of tabs.children) b.setAttribute("aria-pressed", String(b.dataset.carrier === carrier));
    cleanups.splice(0).forEach((f) => f());
    fill(body);
    carrierCharts(body, catalog, carrier, site.timezone, cleanups).catch((err) => body.append(errorText(err)));
  };
  for (const c of carriers) {
    tabs.append(h("button", { type: "button", dataset: { carrier: c }, onclick: () => pick(c) }, carrierName(c)));
  }
  if (carriers.length) pick(carriers[0]);
  monthly(emissions, site, cleanups).catch((err) => emissions.append(errorText(err)));
  return () => cleanups.forEach((f) => f());
}

async function carrierCharts(body, catalog, carrier, zone, cleanups) {
  const main = catalog.mains(carrier).find((m) => catalog.rate(m)) || catalog.mains(carrier)[0];
  const rate = main && catalog.rate(main);
  const counter = main && catalog.counter(main);
  const now = new Date();
  const tint = colour(carrier);
  const panels = {
    day: h("section", { class: "panel", "aria-label": "Last 24 hours" }, h("h3", {}, "Last 24 hours")),
    week: h("section", { class: "panel", "aria-label": "Last 7 days" }, h("h3", {}, "Last 7 days")),
    month: h("section", { class: "panel", "aria-label": "Daily energy this month" }, h("h3", {}, "Daily this month")),
    heat: h("section", { class: "panel", "aria-label": "Load profile" }, h("h3", {}, `Load profile, last ${HEAT_DAYS} days`)),
  };
  body.append(note(`${main?.name || main?.key || "no main meter"}`), ...Object.values(panels));
  if (rate) {
    const [day, week] = await Promise.all([
      series(rate.id, new Date(now - 24 * HOUR), now, "15m"),
      series(rate.id, new Date(now - 7 * 24 * HOUR), now, "1h"),
    ]);
    for (const [panel, data] of [[panels.day, day], [panels.week, week]]) {
      const el = h("div", { class: "chart" });
      panel.append(el);
      cleanups.push(chart(el, {
        zone,
        x: data.buckets.map((b) => new Date(b.start).getTime() / 1000),
        series: [{ label: `${rate.quantity} (mean)`, values: data.buckets.map((b) => b.mean), colour: tint, unit: rate.unit }],
      }));
    }
  } else {
    panels.day.append(note("this meter has no power or flow gauge"));
    panels.week.append(note("this meter has no power or flow gauge"));
  }
  if (!counter) {
    panels.month.append(note("this meter has no counter"));
    return;
  }
  const { month, parts } = dayAndMonthStart(zone, now);
  const heatStart = localMidnight(zone, parts.year, parts.month, parts.day - (HEAT_DAYS - 1));
  const [daily, hourly] = await Promise.all([
    series(counter.id, month, now, "1d"),
    series(counter.id, heatStart, now, "1h"),
  ]);
  const el = h("div", { class: "chart" });
  panels.month.append(el);
  cleanups.push(chart(el, {
    zone,
    x: daily.buckets.map((b) => new Date(b.start).getTime() / 1000),
    series: [{ label: "consumption per day", values: daily.buckets.map((b) => num0(b.consumption)), colour: tint, unit: counter.unit, bars: true, align: 1 }],
  }));
  const canvas = heatmap(byDay(hourly.buckets, zone), `${counter.unit}`);
  panels.heat.append(canvas, note(`${counter.unit} per hour; pale: low, dark: high. Rows are local days.`));
  cleanups.push(canvas.cleanup);
}

function num0(v) {
  return v === null || v === undefined ? null : Number(v);
}

/** Hourly buckets into local days of 24 hour cells (a DST day's extra hour overwrites). */
function byDay(buckets, zone) {
  const days = new Map();
  for (const b of buckets) {
    const p = partsOf(new Date(b.start), zone);
    const key = `${p.year}-${String(p.month).padStart(2, "0")}-${String(p.day).padStart(2, "0")}`;
    if (!days.has(key)) days.set(key, { label: `${p.weekday} ${String(p.day).padStart(2, "0")}.${String(p.month).padStart(2, "0")}`, values: Array(24).fill(null) });
    days.get(key).values[p.hour] = num0(b.consumption);
  }
  return [...days.values()];
}

async function monthly(box, site, cleanups) {
  box.append(h("h3", {}, "Emissions by month (tCO2e)"));
  const history = await get(`/sites/${site.key}/history`);
  const byPeriod = new Map(history.months.map((m) => [m.period, m]));
  const year = Number(history.to.slice(0, 4));
  const total = (period, basis) => {
    const m = byPeriod.get(period);
    return m ? Number(basis === "market" ? m.total_market : m.total_location) : null;
  };
  const key = (y, i) => `${y}-${String(i + 1).padStart(2, "0")}`;
  const el = h("div", { class: "chart" });
  const target = history.target;
  const basis = target ? target.basis : "location";
  const goal = target
    ? `Target: ${num(target.base_tco2e, "tCO2e", 0)} in ${target.base_year}, less ` +
      `${num(Number(target.annual_reduction) * 100, "%", 1)} of it each year (dashed line).`
    : "No target trajectory is set for this site (plant file: ledger.targets).";
  box.append(
    note(`Closed months of ${year} against ${year - 1}, ${basis}-based; a month shows once it has a statement. ${goal}`),
    el,
  );
  const allowance = (i) => {
    const m = target && target.months.find((t) => t.period === key(year, i));
    return m ? Number(m.tco2e) : null;
  };
  cleanups.push(chart(el, {
    labels: el.clientWidth < 500 ? MONTHS.map((m) => m[0]) : MONTHS, // phone: J F M …
    x: MONTHS.map((_, i) => i),
    series: [
      { label: String(year - 1), values: MONTHS.map((_, i) => total(key(year - 1, i), basis)), colour: cssVar("c-prev"), unit: "tCO2e", bars: true, size: 0.35, align: -1 },
      { label: String(year), values: MONTHS.map((_, i) => total(key(year, i), basis)), colour: cssVar("accent"), unit: "tCO2e", bars: true, size: 0.35, align: 1 },
      ...(target ? [{ label: "target", values: MONTHS.map((_, i) => allowance(i)), colour: cssVar("warn"), unit: "tCO2e", dash: [6, 4] }] : []),
    ],
  }));
  const months = history.months.filter((m) => m.period.startsWith(String(year)));
  if (!months.length) {
    box.append(note(`No statement for ${year} yet: months appear here once closed.`));
    return;
  }
  const groups = [];
  for (const m of months) {
    for (const b of m.breakdown) if (!groups.some((g) => g.by === b.by && g.key === b.key)) groups.push({ by: b.by, key: b.key });
  }
  const cell = (m, g, basis) => {
    const b = m.breakdown.find((x) => x.by === g.by && x.key === g.key);
    return h("td", { class: "num" }, b ? num(b[basis], "", 3) : "–");
  };
  const rows = groups.map((g) => h("tr", {}, h("th", { scope: "row" }, `${g.by} ${g.key}`),
    months.map((m) => cell(m, g, "location"))));
  rows.push(h("tr", {}, h("th", { scope: "row" }, "total, location-based"), months.map((m) => h("td", { class: "num" }, num(m.total_location, "", 3)))));
  rows.push(h("tr", {}, h("th", { scope: "row" }, "total, market-based"), months.map((m) => h("td", { class: "num" }, num(m.total_market, "", 3)))));
  rows.push(h("tr", {}, h("th", { scope: "row" }, `same month ${year - 1}`), months.map((m) => h("td", { class: "num" }, num(total(`${year - 1}${m.period.slice(4)}`, "location"), "", 3)))));
  box.append(table(["tCO2e (location-based by group)", ...months.map((m) => h("th", { scope: "col", class: "num" }, m.period))], rows));
}
