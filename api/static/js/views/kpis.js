// Intensity KPIs per production line (kWh/t, Nm³/t, t steam/t, tCO2e/t), month by month
// from the stored statements, and the month so far, each against the month before.

import { get } from "../api.js";
import { errorText, h, note, table } from "../dom.js";
import { num } from "../format.js";

const SHOWN = 6; // months with a statement, before this one

export async function render(root, ctx) {
  const { site } = ctx;
  root.append(h("h2", {}, `${site.name || site.key}: intensity`));
  const box = h("div", { class: "panel" }, note("loading…"));
  root.append(box);
  try {
    const [history, mtd] = await Promise.all([
      get(`/sites/${site.key}/history`),
      get(`/sites/${site.key}/month-to-date`).catch(() => null),
    ]);
    const columns = history.months.slice(-SHOWN).map((m) => ({ period: m.period, label: m.period, kpis: m.kpis }));
    if (mtd) columns.push({ period: mtd.period, label: `${mtd.period} to date`, kpis: mtd.kpis });
    box.replaceChildren(...kpiTable(columns));
  } catch (err) {
    box.replaceChildren(errorText(err));
  }
}

function kpiTable(columns) {
  const names = [];
  for (const c of columns) for (const k of c.kpis) if (!names.some((n) => n.name === k.name)) names.push({ name: k.name, unit: k.unit });
  if (!names.length) return [note("No KPI yet: KPIs need production output (MES counters or production entries) in a month.")];
  const rows = names.map((n) => {
    let before = null;
    const cells = columns.map((c) => {
      const k = c.kpis.find((x) => x.name === n.name);
      const value = k ? Number(k.value) : null;
      const change = value !== null && before ? (value - before) / before : null;
      before = value ?? before;
      const arrow = change === null ? "" : change > 0.005 ? " ▲" : change < -0.005 ? " ▼" : " ＝";
      const title = change === null ? null : `${(change * 100).toFixed(1)} % against the month before`;
      return h("td", { class: "num", title }, k ? num(k.value, k.unit) : "–", arrow);
    });
    return h("tr", {}, h("th", { scope: "row" }, n.name), cells);
  });
  return [
    table(["KPI", ...columns.map((c) => h("th", { scope: "col", class: "num" }, c.label))], rows),
    note("▲ higher, ▼ lower than the month before (hover for the change). Figures at full precision are in each statement."),
  ];
}
