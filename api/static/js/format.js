// Numbers with their units, instants in the site's time zone: every figure on the page
// goes through here, so none is shown without a unit or in the browser's own zone.

const PRETTY = { Nm3: "Nm³", m3: "m³", "Nm3/h": "Nm³/h", "m3/h": "m³/h", degC: "°C", "1": "" };

export function unitText(unit) {
  if (unit in PRETTY) return PRETTY[unit];
  return (unit || "").replace(/Nm3/g, "Nm³").replace(/(^|[^N])m3/g, "$1m³").replace(/degC/g, "°C");
}

/** "1 234.5 kW"; "–" with the unit for a missing value. */
export function num(value, unit, digits) {
  const u = unitText(unit);
  if (value === null || value === undefined || value === "" || Number.isNaN(Number(value))) {
    return u ? `– ${u}` : "–";
  }
  const x = Number(value);
  const d = digits ?? (Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : Math.abs(x) >= 1 ? 2 : 3);
  const text = x.toLocaleString("en-GB", { minimumFractionDigits: d, maximumFractionDigits: d });
  return u ? `${text}\u00a0${u}` : text;
}

export function percent(share, digits = 1) {
  if (share === null || share === undefined) return "–\u00a0%";
  return `${(Number(share) * 100).toFixed(digits)}\u00a0%`;
}

/** "2026-11-23 16:23:32" in `zone`. */
export function when(ts, zone, withSeconds = true) {
  if (!ts) return "never";
  const parts = partsOf(new Date(ts), zone);
  const date = `${parts.year}-${pad(parts.month)}-${pad(parts.day)}`;
  const time = `${pad(parts.hour)}:${pad(parts.minute)}${withSeconds ? `:${pad(parts.second)}` : ""}`;
  return `${date} ${time}`;
}

/** "Asia/Shanghai (UTC+08:00)" */
export function zoneLabel(zone, at = new Date()) {
  const minutes = offsetMinutes(zone, at);
  const sign = minutes < 0 ? "−" : "+";
  const m = Math.abs(minutes);
  return `${zone} (UTC${sign}${pad(Math.floor(m / 60))}:${pad(m % 60)})`;
}

export function ago(ts, now = Date.now()) {
  if (!ts) return "never";
  const s = Math.max(0, Math.round((now - new Date(ts).getTime()) / 1000));
  if (s < 90) return `${s}\u00a0s ago`;
  if (s < 5400) return `${Math.round(s / 60)}\u00a0min ago`;
  if (s < 172800) return `${Math.round(s / 3600)}\u00a0h ago`;
  return `${Math.round(s / 86400)}\u00a0d ago`;
}

function pad(n) {
  return String(n).padStart(2, "0");
}

const formatters = new Map();

/** The wall-clock fields of `date` in `zone`. */
export function partsOf(date, zone) {
  if (!formatters.has(zone)) {
    formatters.set(
      zone,
      new Intl.DateTimeFormat("en-US", {
        timeZone: zone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric",
        hour: "numeric", minute: "numeric", second: "numeric", weekday: "short",
      }),
    );
  }
  const out = {};
  for (const p of formatters.get(zone).formatToParts(date)) {
    out[p.type] = p.type === "weekday" ? p.value : Number(p.value);
  }
  return out;
}

export function offsetMinutes(zone, date) {
  const p = partsOf(date, zone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return Math.round((asUtc - Math.floor(date.getTime() / 1000) * 1000) / 60000);
}

/** The instant of local midnight starting day (year, month, day) in `zone` (DST-safe). */
export function localMidnight(zone, year, month, day) {
  const guess = Date.UTC(year, month - 1, day);
  let t = guess - offsetMinutes(zone, new Date(guess)) * 60000;
  t = guess - offsetMinutes(zone, new Date(t)) * 60000;
  return new Date(t);
}

/** Local midnight today, and the local first of this month, in `zone`. */
export function dayAndMonthStart(zone, now = new Date()) {
  const p = partsOf(now, zone);
  return {
    today: localMidnight(zone, p.year, p.month, p.day),
    month: localMidnight(zone, p.year, p.month, 1),
    parts: p,
  };
}

export function monthKey(zone, now = new Date()) {
  const p = partsOf(now, zone);
  return `${p.year}-${pad(p.month)}`;
}

export const CARRIER_NAMES = {
  electricity: "Electricity",
  natural_gas: "Natural gas",
  steam: "Steam",
  water: "Water",
  heat: "Heat",
};

export function carrierName(carrier) {
  return CARRIER_NAMES[carrier] || carrier.replaceAll("_", " ");
}

/** A carrier's colour, from the stylesheet. */
export function colour(name) {
  const value = getComputedStyle(document.documentElement).getPropertyValue(`--c-${name}`);
  return value.trim() || getComputedStyle(document.documentElement).getPropertyValue("--accent").trim();
}

export function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(`--${name}`).trim();
}
