// Time-series and bar charts on uPlot (vendored, MIT: static/vendor/uplot/LICENSE), with
// time axes in the site's zone, units on axes and legends, and the theme's colours.

import { cssVar, num, partsOf, unitText, when } from "./format.js";

const uPlot = () => globalThis.uPlot;

/**
 * Draw into `el`: x as Unix seconds (or category indices with `labels`), series as
 * [{label, values, colour, unit, bars, dash}]. Returns a cleanup function.
 */
export function chart(el, { x, series, zone, height = 240, labels = null, title = null }) {
  const fg = cssVar("fg");
  const grid = cssVar("line");
  const unit = series[0]?.unit || "";
  const bars = uPlot().paths.bars;
  const opts = {
    title: title || undefined,
    width: Math.max(280, el.clientWidth || 600),
    height,
    tzDate: zone ? (ts) => uPlot().tzDate(new Date(ts * 1000), zone) : undefined,
    scales: { x: { time: !labels } },
    series: [
      labels
        ? { label: "", value: (u, i) => (i === null ? "" : labels[i] ?? "") }
        : { label: "time", value: (u, t) => (t === null ? "–" : when(new Date(t * 1000).toISOString(), zone, false)) },
      ...series.map((s) => ({
        label: s.label,
        stroke: s.colour,
        fill: s.bars ? s.colour : undefined,
        dash: s.dash,
        width: s.bars ? 0 : 1.5,
        paths: s.bars ? bars({ size: [s.size ?? 0.6, 60], align: s.align ?? 0 }) : undefined,
        // Dots where readings are few (a fresh plant), so a short series is not invisible.
        points: { show: !s.bars && s.values.filter((v) => v !== null).length < 60, size: 5 },
        value: (u, v) => (v === null || v === undefined ? "–" : num(v, s.unit)),
      })),
    ],
    axes: [
      {
        stroke: fg,
        grid: { stroke: grid, width: 1 },
        ticks: { stroke: grid },
        values: labels ? (u, splits) => splits.map((i) => labels[i] ?? "") : (u, splits) => timeTicks(splits, zone),
        splits: labels ? () => labels.map((_, i) => i) : undefined,
      },
      {
        stroke: fg,
        grid: { stroke: grid, width: 1 },
        ticks: { stroke: grid },
        label: unitText(unit),
        size: 60,
        values: (u, splits) => splits.map((v) => num(v, "", Math.abs(v) < 10 ? 1 : 0)),
      },
    ],
    legend: { live: true },
    cursor: { drag: { x: false, y: false } },
  };
  const data = [x, ...series.map((s) => s.values)];
  const plot = new (uPlot())(opts, data, el);
  const observer = new ResizeObserver(() => plot.setSize({ width: Math.max(280, el.clientWidth), height }));
  observer.observe(el);
  return () => {
    observer.disconnect();
    plot.destroy();
  };
}

/** Tick labels in the site's zone, 24-hour: "14:00", or "24.11" on a day's first tick. */
function timeTicks(splits, zone) {
  const span = splits.length > 1 ? splits[splits.length - 1] - splits[0] : 0;
  let day = null;
  return splits.map((s) => {
    const p = partsOf(new Date(s * 1000), zone);
    const date = `${String(p.day).padStart(2, "0")}.${String(p.month).padStart(2, "0")}`;
    const time = `${String(p.hour).padStart(2, "0")}:${String(p.minute).padStart(2, "0")}`;
    if (span > 3 * 86400) {
      const label = day !== date ? date : "";
      day = date;
      return label;
    }
    const label = day !== date ? `${time}\n${date}` : time;
    day = date;
    return label;
  });
}
