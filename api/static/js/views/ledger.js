// The period ledger: months with their status; a month's statement with its findings;
// its versions and what each restatement changed; from a line down to its activity data,
// boundary readings, factor record and formula. Workflow buttons appear only for the
// actions GET /api/v1/me says the token's role may take (none for a viewer or auditor).

import { get, post } from "../api.js";
import { errorText, fill, h, note, table } from "../dom.js";
import { monthKey, num, percent, when, zoneLabel } from "../format.js";

export async function render(root, ctx) {
  const { site, me } = ctx;
  const zone = site.timezone;
  const may = new Set(me.may);
  root.append(h("h2", {}, `${site.name || site.key}: period ledger`), note(`Months in ${zoneLabel(zone)}.`));
  const list = h("section", { class: "panel", "aria-label": "Periods" });
  const detail = h("section", { class: "panel", id: "statement", "aria-live": "polite" });
  root.append(h("div", { class: "split" }, list, detail));
  let selected = null;

  async function periods() {
    const data = await get(`/sites/${site.key}/periods`, { limit: 100 });
    const rows = data.items.map((p) => h("tr", { class: p.period === selected ? "selected" : null },
      h("td", {}, h("button", { type: "button", dataset: { period: p.period }, onclick: () => open(p.period) }, p.period)),
      h("td", {}, h("span", { class: "status", dataset: { status: p.status } }, p.status),
        p.pending_restatement ? h("span", { class: "flag bad", title: "readings or events changed since approval" }, "restatement pending") : null),
      h("td", { class: "num" }, p.version ? `v${p.version}` : "")));
    fill(list, h("h3", {}, "Months"), data.items.length ? table(["month", "status", "version"], rows) : note("No month has readings yet."));
    return data.items;
  }

  async function open(period) {
    selected = period;
    const items = await periods();
    const row = items.find((p) => p.period === period);
    fill(detail, h("h3", {}, `${period}`), note("loading…"));
    try {
      if (!row || row.status === "open") showOpen(period);
      else await showStatement(period);
    } catch (err) {
      detail.append(errorText(err));
    }
  }

  function showOpen(period) {
    const ended = period < monthKey(zone);
    const buttons = [];
    if (may.has("close") && ended) buttons.push(action("close", "Close month", () => post(`/sites/${site.key}/periods/${period}/close`)));
    fill(detail, h("h3", {}, period), h("p", {}, h("span", { class: "status", dataset: { status: "open" } }, "open")),
      note(ended ? "Ended, not closed yet: closing computes version 1 from the readings." : "This month has not ended yet; the overview shows it to date."),
      buttons.length ? h("div", { class: "actions" }, buttons) : null);
  }

  function action(name, label, run, extra) {
    const message = h("span", { class: "note", role: "status" });
    const button = h("button", { type: "button", class: "primary", dataset: { action: name }, onclick: async () => {
      button.disabled = true;
      message.textContent = "working…";
      try {
        await run(extra?.());
        await open(selected);
      } catch (err) {
        message.textContent = "";
        button.disabled = false;
        message.replaceWith(errorText(err));
      }
    } }, label);
    return h("span", {}, button, " ", message);
  }

  async function showStatement(period) {
    const base = `/sites/${site.key}/periods/${period}`;
    const [st, versions] = await Promise.all([get(base), get(`${base}/versions`)]);
    const buttons = workflow(st, base);
    const lineage = h("section", { id: "lineage", "aria-live": "polite" });
    fill(detail,
      h("h3", {}, `${period}, version ${st.version}`),
      h("p", {}, h("span", { class: "status", dataset: { status: st.status } }, st.status), ` computed ${when(st.computed_at, zone)}`),
      h("dl", { class: "figures" },
        h("dt", {}, "location-based"), h("dd", {}, num(st.total_location, "tCO2e", 3)),
        h("dt", {}, "market-based"), h("dd", {}, num(st.total_market, "tCO2e", 3)),
        h("dt", {}, "coverage"), h("dd", {}, percent(st.coverage)),
        h("dt", {}, "hash"), h("dd", { class: "hash" }, st.hash || "")),
      buttons.length ? h("div", { class: "actions", "aria-label": "Workflow" }, buttons) : null,
      h("h3", {}, `Findings (${st.findings.length})`),
      st.findings.length
        ? table(["code", "subject", "detail"], st.findings.map((f) => h("tr", { dataset: { finding: f.code } }, h("td", {}, f.code), h("td", { class: "wrap" }, f.subject), h("td", { class: "wrap" }, f.detail))))
        : note("none"),
      h("h3", {}, "Lines"),
      table(["line", "scope", "activity", "tCO2e"], st.lines.map((l) => h("tr", {},
        h("td", { class: "wrap" }, may.has("lineage")
          ? h("button", { type: "button", dataset: { line: l.key }, onclick: () => trace(base, st.version, l.key, lineage), title: "activity data, readings, factor and formula" }, l.key)
          : l.key),
        h("td", {}, `${l.scope} ${l.basis}`),
        h("td", { class: "num" }, num(l.activity, l.activity_unit)),
        h("td", { class: "num" }, num(l.tco2e, "", 6))))),
      may.has("lineage") ? note("Choose a line to trace it to its readings and factor.") : note("Your role sees statements; tracing lines to readings is for managers and auditors."),
      lineage,
      h("h3", {}, "Versions"),
      versionTable(versions.items, base, period),
    );
  }

  function workflow(st, base) {
    const out = [];
    if (st.status === "closed" && may.has("review")) out.push(action("review", "Mark reviewed", () => post(`${base}/review`)));
    if (st.status === "reviewed" && may.has("approve")) out.push(action("approve", "Approve", () => post(`${base}/approve`)));
    if (st.status !== "approved" && may.has("close")) {
      const reason = h("input", { type: "text", "aria-label": "Reason for computing again", placeholder: "reason", dataset: { reason: "close" } });
      out.push(h("span", {}, reason, " ", action("recompute", "Compute again", (r) => post(`${base}/close`, { reason: r }), () => reason.value.trim())));
    }
    if (st.status === "approved" && may.has("restate")) {
      const reason = h("input", { type: "text", "aria-label": "Reason for the restatement", placeholder: "reason", dataset: { reason: "restate" } });
      out.push(h("span", {}, reason, " ", action("restate", "Restate", (r) => post(`${base}/restatement`, { reason: r }), () => reason.value.trim())));
    }
    return out;
  }

  function versionTable(versions, base, period) {
    const diff = h("div", { id: "diff" });
    const rows = versions.map((v) => h("tr", {},
      h("td", {}, `v${v.version}`),
      h("td", {}, h("span", { class: "status", dataset: { status: v.status } }, v.status)),
      h("td", { class: "wrap" }, v.reason || ""),
      h("td", { class: "num" }, num(v.total_location, "tCO2e", 3)),
      h("td", { class: "hash" }, v.hash.slice(0, 12)),
      h("td", {}, v.version > 1 ? h("button", { type: "button", dataset: { diff: v.version }, onclick: () => showDiff(base, v.version, diff) }, `diff v${v.version - 1}→v${v.version}`) : "")));
    return h("div", {}, table(["version", "status", "reason", "location-based", "hash", ""], rows, `${versions.length} version(s) of ${period}`), diff);
  }

  async function showDiff(base, after, box) {
    fill(box, note("loading…"));
    const d = await get(`${base}/diff`, { after });
    fill(box, h("h3", {}, `v${d.before} → v${d.after}: ${d.reason || "no reason"}`),
      d.changes.length
        ? table(["line", "before", "after", "change", "inputs that moved"], d.changes.map((c) => h("tr", {},
          h("td", { class: "wrap" }, c.key), h("td", { class: "num" }, num(c.before, "", 6)), h("td", { class: "num" }, num(c.after, "", 6)),
          h("td", { class: "num" }, num(c.delta, "", 6)), h("td", {}, c.fields.join(", ")))))
        : note("no line changed"));
  }

  async function trace(base, version, line, box) {
    fill(box, note("tracing…"));
    try {
      const l = await get(`${base}/lineage`, { line, version });
      fill(box, ...lineageView(l, zone));
      box.scrollIntoView({ block: "nearest" });
    } catch (err) {
      fill(box, errorText(err));
    }
  }

  const items = await periods();
  const wanted = ctx.route.split("/")[1];
  const ended = items.filter((p) => p.period < monthKey(zone));
  const first = items.find((p) => p.period === wanted) || ended.find((p) => p.status !== "open") || ended[0] || items[0];
  if (first) await open(first.period);
  else fill(detail, note("Nothing to show yet."));
}

function lineageView(l, zone) {
  return [
    h("h3", {}, `Trace: ${l.line.key}`),
    h("p", {}, `${num(l.line.activity, l.line.activity_unit)} → ${num(l.line.tco2e, "tCO2e", 6)}; period ${when(l.start, zone, false)} to ${when(l.end, zone, false)}`),
    ...l.activities.map((a) => h("div", { class: "panel", dataset: { activity: a.key } },
      h("h3", {}, `Activity ${a.key}: ${num(a.quantity, a.unit)}`),
      h("p", { class: "wrap" }, `${a.method}; coverage ${percent(a.coverage)}, estimated ${percent(a.estimated_share)}; counter ${a.start_value ?? "–"} at the start, ${a.end_value ?? "–"} at the end`),
      a.corrections.length ? note(`corrections: ${a.corrections.join("; ")}`) : null,
      table(["boundary reading (local)", "value", "quality"], a.evidence.map((e) => h("tr", { dataset: { evidence: e.ts } },
        h("td", {}, when(e.ts, zone)), h("td", { class: "num" }, num(e.value, a.unit, 3)),
        h("td", {}, e.flags.map((f) => h("span", { class: f === "good" ? "flag" : "flag bad" }, f)))))),
      a.events.length ? table(["meter event", "at", "applied"], a.events.map((e) => h("tr", {}, h("td", {}, e.kind), h("td", {}, when(e.ts, zone)), h("td", {}, e.applied ? "yes" : "no")))) : null)),
    h("h3", {}, "Factor records"),
    table(["factor", "value", "gas", "year", "source"], l.factors.map((f) => h("tr", { dataset: { factor: f.id } },
      h("td", { class: "wrap" }, `${f.ref}`),
      h("td", { class: "num" }, `${f.value} ${f.numerator}/${f.denominator}`),
      h("td", {}, f.gas),
      h("td", {}, f.data_year ?? ""),
      h("td", { class: "wrap" }, `${f.publisher}, ${f.document}`, f.url ? h("div", { class: "note" }, f.url) : null)))),
    h("h3", {}, "Formula"),
    h("p", { class: "wrap", dataset: { formula: "" } }, l.formula),
    h("ol", {}, l.recompute.map((s) => h("li", { class: "wrap" }, s))),
  ];
}
