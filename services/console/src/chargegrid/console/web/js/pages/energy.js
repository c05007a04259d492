// Site energy: limit vs allocated vs drawn per phase over time, live from site_load events,
// the per-EVSE allocation now, and the site's demand-response events.

import { get, items, subscribe } from "../api.js";
import { chart, chartBox } from "../charts.js";
import { banner, clear, fmt, h, label, section, statusBadge, table } from "../ui.js";

const PHASES = ["l1", "l2", "l3"];
const KEEP_POINTS = 120;

/** Limit, allocated and drawn per phase of one SiteLoad. */
export function phases(load) {
  const root = (load.nodes || [])[0];
  const allocated = root && root.planned_a ? root.planned_a : null;
  const evseSum = (load.evses || []).reduce((sum, e) => sum + Number(e.allocated_a || 0), 0);
  return PHASES.map((p) => ({
    phase: p.toUpperCase(),
    limit: Number((load.effective_limit_a || {})[p] || 0),
    allocated: allocated ? Number(allocated[p] || 0) : evseSum,
    drawn: Number((load.measured_a || {})[p] || 0),
  }));
}

function timeLabel() {
  // The sample's arrival: a load pushed again unchanged keeps its computed_at, and a time
  // axis of those repeats one label.
  const d = new Date();
  return d.toLocaleTimeString("en-GB", { hour12: false });
}

function datasets() {
  const out = [];
  const styles = { limit: [6, 3], allocated: [2, 2], drawn: [] };
  PHASES.forEach((p, i) => {
    for (const kind of ["limit", "allocated", "drawn"]) {
      out.push({ label: `${kind} ${p.toUpperCase()} (A)`, data: [], borderDash: styles[kind], color: ["#0b6bcb", "#1f8a4c", "#c53030"][i], fill: "transparent" });
    }
  });
  return out;
}

export async function render(root, ctx) {
  const sites = items(await get("/sites", { page_size: 500 }).catch((error) => { root.append(banner(error, "Sites")); return []; }));
  const siteId = ctx.params.query.site || (sites[0] && sites[0].id);
  const picker = h(
    "select",
    { name: "site", id: "site-picker", onchange: (e) => ctx.navigate(`#/energy?site=${encodeURIComponent(e.target.value)}`) },
    sites.map((s) => h("option", { value: s.id, selected: s.id === siteId }, s.name ? `${s.name} (${s.id})` : s.id)),
  );
  const live = h("span", { class: "live", id: "live-state" }, "connecting");
  root.append(h("div", { class: "page-head" }, h("h1", {}, "Site energy"), h("label", {}, "Site", picker), live));
  if (!siteId) {
    root.append(h("p", { class: "muted" }, "No site yet: create one (chargegrid sites add ...) and put stations on it."));
    return undefined;
  }
  const nowBox = h("div", { id: "site-now" });
  const evseBox = h("div", { id: "site-evses" });
  const box = chartBox("site-load-chart");
  root.append(h("section", { class: "card" }, h("h2", {}, "Limit vs allocated vs drawn per phase (A)"), box, nowBox));
  const cards = h("div", { class: "cards" });
  root.append(cards);
  const graph = await chart(box, "line", [], datasets(), { scales: { y: { beginAtZero: true, title: { display: true, text: "A" } } } });

  function add(load) {
    const rows = phases(load);
    graph.data.labels.push(timeLabel());
    rows.forEach((r, i) => {
      graph.data.datasets[i * 3].data.push(r.limit);
      graph.data.datasets[i * 3 + 1].data.push(r.allocated);
      graph.data.datasets[i * 3 + 2].data.push(r.drawn);
    });
    if (graph.data.labels.length > KEEP_POINTS) {
      graph.data.labels.shift();
      for (const d of graph.data.datasets) d.data.shift();
    }
    graph.update("none");
    clear(nowBox).append(
      table(
        [
          { label: "Phase", value: (r) => r.phase },
          { label: "Limit", value: (r) => `${fmt.number(r.limit, 1)} A`, class: "num" },
          { label: "Allocated", value: (r) => `${fmt.number(r.allocated, 1)} A`, class: "num" },
          { label: "Drawn", value: (r) => `${fmt.number(r.drawn, 1)} A`, class: "num" },
        ],
        rows,
      ),
      h("p", { class: "muted" }, `Policy ${load.policy || "–"}, computed ${fmt.time(load.computed_at)}`, load.demand_response_id ? ` · demand response ${load.demand_response_id} active` : ""),
    );
    clear(evseBox).append(
      table(
        [
          { label: "Station", value: (e) => e.station_id },
          { label: "EVSE", value: (e) => e.evse_id, class: "num" },
          { label: "Allocated", value: (e) => `${fmt.number(e.allocated_a, 1)} A`, class: "num" },
          { label: "Accepted", value: (e) => `${fmt.number(e.accepted_a, 1)} A`, class: "num" },
          { label: "Reason", value: (e) => label(e.reason) },
        ],
        load.evses || [],
        { empty: "No EVSE is charging on this site." },
      ),
    );
  }

  const base = `/energy/sites/${encodeURIComponent(siteId)}`;
  await Promise.all([
    section(cards, "EVSEs now", async () => {
      add(await get(`${base}/load`));
      return evseBox;
    }),
    section(cards, "Demand response", async () =>
      table(
        [
          { label: "Event", value: (d) => d.id },
          { label: "State", value: (d) => statusBadge(label(d.state)) },
          { label: "Start", value: (d) => fmt.time(d.start) },
          { label: "End", value: (d) => fmt.time(d.end) },
          { label: "Limit", value: (d) => (d.percent ? `${d.percent} %` : d.limit_a ? `${fmt.number(d.limit_a, 1)} A` : d.limit_kw ? `${fmt.number(d.limit_kw, 1)} kW` : "–") },
        ],
        items(await get("/energy/demand-response", { site_id: siteId, include_past: true })),
        { empty: "No demand-response event for this site." },
      ),
    ),
  ]);

  return subscribe(
    { kinds: "site_load", site_id: siteId },
    ["site_load", "site_load.error"],
    (type, data) => {
      if (type === "site_load") add(data);
      else if (type === "site_load.error") clear(nowBox).append(banner({ status: 503, detail: data.detail }, "Energy"));
    },
    (state) => {
      live.dataset.state = state;
      live.textContent = state === "live" ? "live" : "reconnecting…";
    },
  );
}
