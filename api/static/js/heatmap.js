// A load-profile heat map, hour of day × day, on a canvas: base load shows as the floor
// colour of the night hours, shifts as bands, a shift moved as bands that move. uPlot
// has no heat map; a canvas grid of a few hundred cells needs no library.

import { cssVar, num } from "./format.js";

/** days: [{label, values: [24 numbers or null]}]; returns the canvas. */
export function heatmap(days, unit) {
  const canvas = document.createElement("canvas");
  canvas.className = "heatmap";
  canvas.setAttribute("role", "img");
  const values = days.flatMap((d) => d.values).filter((v) => v !== null);
  const low = Math.min(...values, 0);
  const high = Math.max(...values, 1);
  canvas.setAttribute(
    "aria-label",
    `Hourly consumption, ${days.length} days × 24 hours, from ${num(low, unit)} to ${num(high, unit)} per hour`,
  );
  const draw = () => {
    const width = Math.max(280, canvas.parentElement?.clientWidth || 600);
    const left = 78;
    const top = 18;
    const cellW = (width - left - 8) / 24;
    const cellH = Math.max(8, Math.min(18, 360 / Math.max(days.length, 1)));
    const height = top + cellH * days.length + 4;
    const ratio = window.devicePixelRatio || 1;
    canvas.width = width * ratio;
    canvas.height = height * ratio;
    canvas.style.height = `${height}px`;
    const g = canvas.getContext("2d");
    g.scale(ratio, ratio);
    g.font = "11px system-ui, sans-serif";
    g.fillStyle = cssVar("fg");
    for (let hour = 0; hour < 24; hour += 3) g.fillText(String(hour).padStart(2, "0"), left + hour * cellW + 2, 12);
    days.forEach((day, row) => {
      const y = top + row * cellH;
      g.fillStyle = cssVar("fg");
      if (days.length <= 31 || row % 2 === 0) g.fillText(day.label, 2, y + cellH - 3);
      day.values.forEach((v, hour) => {
        g.fillStyle = v === null ? cssVar("bg") : shade((v - low) / (high - low || 1));
        g.fillRect(left + hour * cellW, y, Math.ceil(cellW) - 1, cellH - 1);
      });
    });
  };
  requestAnimationFrame(draw);
  const observer = new ResizeObserver(() => draw());
  requestAnimationFrame(() => canvas.parentElement && observer.observe(canvas.parentElement));
  canvas.cleanup = () => observer.disconnect();
  return canvas;
}

/** A colour-blind-safe ramp from pale yellow to dark blue. */
function shade(t) {
  const stops = [[255, 255, 204], [161, 218, 180], [65, 182, 196], [44, 127, 184], [37, 52, 148]];
  const x = Math.max(0, Math.min(1, t)) * (stops.length - 1);
  const i = Math.min(Math.floor(x), stops.length - 2);
  const f = x - i;
  const c = stops[i].map((a, k) => Math.round(a + (stops[i + 1][k] - a) * f));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}
