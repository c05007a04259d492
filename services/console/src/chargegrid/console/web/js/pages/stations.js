// Stations: server-side search, filters and paging (1,000+ stations never load at once);
// connector badges follow the live station.status events without a reload.

import { get, items, subscribe } from "../api.js";
import { fmt, h, label, statusBadge, table, tokenPager } from "../ui.js";

const PAGE_SIZE = 50;
const STATUSES = ["", "Available", "Preparing", "Charging", "SuspendedEV", "SuspendedEVSE", "Finishing", "Reserved", "Unavailable", "Faulted", "Occupied"];

export function connectors(station) {
  const list = [];
  for (const evse of station.evses || []) {
    for (const c of evse.connectors || []) list.push({ evse_id: evse.evse_id, ...c });
  }
  return list;
}

function connectorBadges(station) {
  return h(
    "span",
    { class: "connectors" },
    connectors(station).map((c) =>
      h("span", { dataset: { connector: `${c.evse_id}/${c.connector_id}` }, title: `EVSE ${c.evse_id} connector ${c.connector_id}` }, statusBadge(label(c.status)), " "),
    ),
  );
}

export async function render(root, ctx) {
  const q = h("input", { type: "search", name: "q", placeholder: "id, vendor, model, serial, site", value: ctx.params.query.q || "" });
  const site = h("select", { name: "site_id" }, h("option", { value: "" }, "all sites"));
  const online = h("select", { name: "online" }, h("option", { value: "" }, "online and offline"), h("option", { value: "true" }, "online"), h("option", { value: "false" }, "offline"));
  const status = h("select", { name: "status" }, STATUSES.map((s) => h("option", { value: s }, s || "any connector status")));
  if (ctx.params.query.status) status.value = ctx.params.query.status;
  const list = h("div", { id: "station-list" });
  const live = h("span", { class: "live", id: "live-state" }, "connecting");
  root.append(
    h("div", { class: "page-head" }, h("h1", {}, "Stations"), live),
    h(
      "section",
      { class: "card" },
      h(
        "form",
        { class: "toolbar", onsubmit: (e) => { e.preventDefault(); pager.first(); } },
        h("label", {}, "Search", q),
        h("label", {}, "Site", site),
        h("label", {}, "Online", online),
        h("label", {}, "Connector status", status),
        h("button", { type: "submit" }, "Apply"),
      ),
      list,
    ),
  );
  for (const el of [site, online, status]) el.addEventListener("change", () => pager.first());

  get("/sites", { page_size: 500 })
    .then((answer) => {
      for (const s of items(answer)) site.append(h("option", { value: s.id }, s.name ? `${s.name} (${s.id})` : s.id));
    })
    .catch(() => {});

  const pager = tokenPager(
    list,
    (pageToken) =>
      get("/stations", {
        q: q.value.trim(),
        site_id: site.value,
        online: online.value,
        status: status.value,
        page_size: PAGE_SIZE,
        page_token: pageToken,
      }),
    (answer) =>
      table(
        [
          { label: "Station", value: (s) => h("a", { href: `#/stations/${encodeURIComponent(s.id)}` }, s.id) },
          { label: "Site", value: (s) => s.site_id || "–" },
          { label: "Online", value: (s) => statusBadge(s.online ? "online" : "offline") },
          { label: "Connectors", value: connectorBadges },
          { label: "Vendor / model", value: (s) => [s.vendor, s.model].filter(Boolean).join(" / ") || "–" },
          { label: "OCPP", value: (s) => label(s.ocpp_version) },
          { label: "Firmware", value: (s) => s.firmware_version || "–" },
          { label: "Last seen", value: (s) => fmt.time(s.last_seen) },
        ],
        items(answer),
        { empty: "No station matches.", rowAttrs: (s) => ({ dataset: { station: s.id } }) },
      ),
  );
  await pager.first();

  return subscribe(
    { kinds: "station" },
    ["station.status"],
    (type, update) => applyStatus(list, update),
    (state) => {
      live.dataset.state = state;
      live.textContent = state === "live" ? "live" : "reconnecting…";
    },
  );
}

/** Puts a station.status event onto the row of its station, if it is on this page. */
export function applyStatus(container, update) {
  if (!update || !update.station_id) return;
  const tr = [...container.querySelectorAll("tr[data-station]")].find((r) => r.dataset.station === update.station_id);
  if (!tr) return;
  if (update.kind === "online" || update.kind === "offline") {
    const cell = tr.children[2];
    cell.replaceChildren(statusBadge(update.kind));
    return;
  }
  const key = `${update.evse_id}/${update.connector_id}`;
  const slot = [...tr.querySelectorAll("[data-connector]")].find((el) => el.dataset.connector === key);
  if (slot) slot.replaceChildren(statusBadge(label(update.status)), " ");
}
