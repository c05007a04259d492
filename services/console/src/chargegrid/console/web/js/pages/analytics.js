// Analytics: energy per day, a utilization heatmap (day x hour), uptime with its outages,
// peaks and revenue, for the network or one site, from the analytics service.

import { get, items } from "../api.js";
import { chart, chartBox } from "../charts.js";
import { banner, fmt, h, section, table } from "../ui.js";

const DAY_MS = 86400000;

/** Draws once the section holding `box` is on the page (Chart.js sizes from its parent). */
function drawLater(box, ...args) {
  setTimeout(() => chart(box, ...args).catch((error) => box.replaceChildren(banner(error))));
}

function isoDay(d) {
  return d.toISOString().slice(0, 10);
}

function heatColor(share) {
  const v = Math.max(0, Math.min(1, share));
  return `rgba(11, 107, 203, ${0.08 + 0.85 * v})`;
}

function heatmap(buckets) {
  const byDay = new Map();
  for (const b of buckets) {
    const when = new Date(b.start || b.label);
    if (Number.isNaN(when.getTime())) continue;
    const day = isoDay(when);
    if (!byDay.has(day)) byDay.set(day, new Array(24).fill(null));
    byDay.get(day)[when.getUTCHours()] = Number(b.charging_share || 0) + Number(b.occupied_share || 0);
  }
  if (byDay.size === 0) return h("p", { class: "muted empty" }, "No connector state recorded in this period.");
  return h(
    "table",
    { class: "heatmap", id: "utilization-heatmap" },
    h("thead", {}, h("tr", {}, h("th", {}, "UTC"), [...Array(24).keys()].map((hr) => h("th", {}, String(hr).padStart(2, "0"))))),
    h(
      "tbody",
      {},
      [...byDay.entries()].sort().map(([day, hours]) =>
        h(
          "tr",
          {},
          h("th", {}, day),
          hours.map((share) =>
            h("td", { style: share === null ? "" : `background:${heatColor(share)}`, title: share === null ? "no data" : `${fmt.number(share * 100)} % in use`, dataset: { share: share ?? "" } }, share === null ? "" : fmt.number(share * 100)),
          ),
        ),
      ),
    ),
  );
}

export async function render(root, ctx) {
  const sites = items(await get("/sites", { page_size: 500 }).catch(() => []));
  const scope = ctx.params.query.scope || "network";
  const days = Number(ctx.params.query.days || 14);
  const end = new Date(Math.ceil(Date.now() / DAY_MS) * DAY_MS);
  const start = new Date(end.getTime() - days * DAY_MS);
  const [kind, scopeId] = scope.split(":");
  const query = { scope: kind, site_id: kind === "site" ? scopeId : undefined, start: start.toISOString(), end: end.toISOString() };
  const picker = h(
    "select",
    { id: "scope-picker", onchange: (e) => ctx.navigate(`#/analytics?scope=${encodeURIComponent(e.target.value)}&days=${days}`) },
    h("option", { value: "network" }, "whole network"),
    sites.map((s) => h("option", { value: `site:${s.id}`, selected: scope === `site:${s.id}` }, `site ${s.name || s.id}`)),
  );
  root.append(h("div", { class: "page-head" }, h("h1", {}, "Analytics"), h("label", {}, "Scope", picker), h("span", { class: "muted" }, `${isoDay(start)} – ${isoDay(new Date(end.getTime() - 1))}`)));
  const cards = h("div", { class: "cards" });
  root.append(cards);

  await Promise.all([
    section(cards, "Energy per day (kWh)", async () => {
      const params = { ...query, granularity: "day" };
      const answer = await get("/analytics/energy", params);
      const buckets = answer.buckets || [];
      const box = chartBox("energy-chart");
      box.dataset.query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined)).toString();
      const wrap = h("div", {}, box, h("p", { class: "muted", id: "energy-total" }, `Total ${fmt.kwh(Number(answer.total_wh || 0) / 1000)}`));
      drawLater(box, "bar", buckets.map((b) => b.label), [{ label: "kWh", data: buckets.map((b) => Number(b.energy_wh || 0) / 1000) }], { scales: { y: { beginAtZero: true } } });
      return wrap;
    }),
    section(cards, "Utilization by hour (% in use)", async () => {
      const answer = await get("/analytics/utilization", { ...query, start: new Date(end.getTime() - 7 * DAY_MS).toISOString(), granularity: "hour" });
      return heatmap(answer.buckets || []);
    }, { wide: true }),
    section(cards, "Uptime", async () => {
      const answer = await get("/analytics/uptime", { ...query, granularity: "month" });
      const ports = answer.ports || [];
      const box = chartBox("uptime-chart");
      drawLater(box, "bar", ports.map((p) => `${p.station_id}/${p.evse_id} ${p.month || ""}`.trim()), [{ label: "uptime %", data: ports.map((p) => Number(p.uptime_percent || 0)) }], { scales: { y: { min: 0, max: 100 } } });
      return h(
        "div",
        {},
        h("p", {}, "Uptime ", h("strong", { id: "uptime-percent" }, `${fmt.number(answer.uptime_percent, 2)} %`)),
        box,
        h("h3", {}, "Outages"),
        table(
          [
            { label: "Station", value: (o) => `${o.station_id}/${o.evse_id}` },
            { label: "From", value: (o) => fmt.time(o.start) },
            { label: "Until", value: (o) => (o.end ? fmt.time(o.end) : "ongoing") },
            { label: "Cause", value: (o) => o.cause || "–" },
            { label: "Excluded", value: (o) => (o.excluded ? "yes" : "") },
          ],
          (answer.outages || []).slice(0, 50),
          { empty: "No outage in this period." },
        ),
      );
    }),
    section(cards, "Peaks (highest 15-min power, kW)", async () => {
      const answer = await get("/analytics/peaks", { ...query, granularity: "day" });
      const peaks = answer.peaks || [];
      const box = chartBox("peaks-chart");
      drawLater(box, "bar", peaks.map((p) => `${p.label}${p.site_id ? ` ${p.site_id}` : ""}`), [{ label: "peak kW", data: peaks.map((p) => Number(p.peak_power_w || 0) / 1000) }], { scales: { y: { beginAtZero: true } } });
      return box;
    }),
    section(cards, "Revenue", async () => {
      const answer = await get("/analytics/revenue", { ...query, granularity: "day" });
      return table(
        [
          { label: "Period", value: (r) => r.label },
          { label: "Site", value: (r) => r.site_id || "–" },
          { label: "Sessions", value: (r) => r.sessions, class: "num" },
          { label: "Energy", value: (r) => fmt.kwh(Number(r.energy_wh || 0) / 1000), class: "num" },
          { label: "Excl. VAT", value: (r) => fmt.money(r.total_excl_vat, r.currency), class: "num" },
          { label: "Incl. VAT", value: (r) => fmt.money(r.total_incl_vat, r.currency), class: "num" },
        ],
        answer.buckets || [],
        { empty: "No revenue in this period." },
      );
    }, { wide: true }),  // six columns do not fit a third of the page
  ]);
  return undefined;
}
