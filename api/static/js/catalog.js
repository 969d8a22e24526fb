// What the views need to know of a site's meters: which are main meters, and for each
// carrier the counter that measures its energy or volume and the gauge of its rate.

import { all } from "./api.js";

/** The counter quantity that measures each carrier, in order of preference. */
const COUNTERS = {
  electricity: ["energy_import"],
  natural_gas: ["volume"],
  steam: ["mass", "heat"],
  water: ["volume"],
  heat: ["heat"],
};
const RATES = ["power", "mass_flow", "flow", "heat_flow"];
/** Standard volume before volume at line conditions (Nm³ is what gas is billed in). */
const UNIT_ORDER = ["Nm3", "t", "kWh", "m3", "GJ"];

export async function loadCatalog(site) {
  const [meters, points] = await Promise.all([
    all(`/sites/${site.key}/meters`),
    all("/points", { site: site.key }),
  ]);
  const byMeter = new Map(meters.map((m) => [m.key, { ...m, points: [] }]));
  for (const p of points) byMeter.get(p.meter)?.points.push(p);
  return new Catalog(site, [...byMeter.values()]);
}

export class Catalog {
  constructor(site, meters) {
    this.site = site;
    this.meters = meters;
  }

  /** Carriers with a main meter, in a fixed order. */
  carriers() {
    const order = Object.keys(COUNTERS);
    const found = new Set(this.meters.filter((m) => m.role === "main").map((m) => m.carrier));
    return [...found].filter((c) => c in COUNTERS).sort((a, b) => order.indexOf(a) - order.indexOf(b));
  }

  mains(carrier) {
    return this.meters.filter((m) => m.role === "main" && m.carrier === carrier);
  }

  /** The counter point measuring a meter's carrier, or undefined. */
  counter(meter) {
    const wanted = COUNTERS[meter.carrier] || [];
    const candidates = meter.points.filter((p) => p.kind === "counter" && wanted.includes(p.quantity));
    const rank = (p) => wanted.indexOf(p.quantity) * 10 + idx(UNIT_ORDER, p.unit);
    return candidates.sort((a, b) => rank(a) - rank(b))[0];
  }

  /** The gauge of a meter's rate (power or flow), or undefined. */
  rate(meter) {
    const candidates = meter.points.filter((p) => p.kind === "gauge" && RATES.includes(p.quantity));
    return candidates.sort((a, b) => RATES.indexOf(a.quantity) - RATES.indexOf(b.quantity))[0];
  }

  meter(key) {
    return this.meters.find((m) => m.key === key);
  }
}

function idx(list, value) {
  const i = list.indexOf(value);
  return i < 0 ? list.length : i;
}
