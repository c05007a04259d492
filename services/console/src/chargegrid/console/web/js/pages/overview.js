// Overview: the network at a glance (GET /overview, served from the console's live mirror),
// refreshed every few seconds; degraded parts of the mirror show as banners, not zeros.

import { get } from "../api.js";
import { banner, clear, fmt, h, kpi, table } from "../ui.js";

const REFRESH_MS = 5000;
const RENDERED = "chargegrid:overview-rendered";

function numbers(o) {
  return h(
    "div",
    { class: "kpis", id: "overview-kpis" },
    kpi("Stations online", fmt.number(o.stations_online), { id: "stations_online", tone: "ok" }),
    kpi("Offline", fmt.number(o.stations_offline), { id: "stations_offline", tone: "idle" }),
    kpi("Faulted", fmt.number(o.stations_faulted), { id: "stations_faulted", tone: o.stations_faulted ? "bad" : undefined }),
    kpi("Charging now", fmt.number(o.charging_now), { id: "charging_now" }),
    kpi("Power now", fmt.kw(o.power_now_kw), { id: "power_now_kw" }),
    kpi("Energy today", o.energy_today_kwh === null ? "–" : fmt.kwh(o.energy_today_kwh), { id: "energy_today_kwh" }),
  );
}

function alerts(o) {
  return h(
    "section",
    { class: "card", id: "alerts" },
    h("h2", {}, `Alerts (${o.alerts.length})`),
    table(
      [
        { label: "Station", value: (a) => h("a", { href: `#/stations/${encodeURIComponent(a.station_id)}` }, a.station_id) },
        { label: "Site", value: (a) => a.site_id || "–" },
        { label: "Alert", value: (a) => h("span", { class: `badge badge-${a.kind}` }, a.kind) },
        { label: "Since", value: (a) => fmt.time(a.since) },
      ],
      o.alerts,
      { empty: "No faulted or long-offline stations." },
    ),
  );
}

export async function render(root) {
  const body = h("div", { class: "page" });
  root.append(
    h("div", { class: "page-head" }, h("h1", {}, "Overview"), h("span", { class: "muted", id: "overview-total" })),
    body,
  );
  async function refresh() {
    try {
      const o = await get("/overview");
      const degraded = Object.entries(o.degraded || {}).map(([service, reason]) =>
        banner({ status: 503, title: "not current", detail: String(reason).slice(0, 240) }, `Live ${service}`),
      );
      clear(body).append(...degraded, numbers(o), alerts(o));
      root.querySelector("#overview-total").textContent = `${fmt.number(o.stations_total)} stations`;
      // What bench console-render times: navigation start -> the numbers on screen.
      if (!performance.getEntriesByName(RENDERED).length) performance.mark(RENDERED);
    } catch (error) {
      clear(body).append(banner(error, "Overview"));
    }
  }
  await refresh();
  const timer = setInterval(refresh, REFRESH_MS);
  return () => clearInterval(timer);
}
