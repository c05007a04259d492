// CDRs: server-side paged list with period filter and CSV export (the API streams the CSV).

import { download, get, items } from "../api.js";
import { fmt, h, table, toast, tokenPager } from "../ui.js";

export async function render(root) {
  const station = h("input", { name: "station_id", placeholder: "station id" });
  const since = h("input", { name: "since", type: "date" });
  const until = h("input", { name: "until", type: "date" });
  const box = h("div", { id: "cdr-list" });
  const params = () => ({
    station_id: station.value.trim(),
    since: since.value ? `${since.value}T00:00:00Z` : "",
    until: until.value ? `${until.value}T00:00:00Z` : "",
  });
  root.append(
    h("div", { class: "page-head" }, h("h1", {}, "CDRs")),
    h(
      "section",
      { class: "card" },
      h(
        "form",
        { class: "toolbar", onsubmit: (e) => { e.preventDefault(); pager.first(); } },
        h("label", {}, "Station", station),
        h("label", {}, "From", since),
        h("label", {}, "Until", until),
        h("button", { type: "submit" }, "Apply"),
        h("button", { type: "button", class: "secondary", id: "cdr-export", onclick: () => download("/cdrs/export.csv", params(), "cdrs.csv").catch((error) => toast(`Export failed: ${error.detail || error.message}`, "bad")) }, "Export CSV"),
      ),
      box,
    ),
  );
  const pager = tokenPager(
    box,
    (pageToken) => get("/cdrs", { ...params(), page_size: 50, page_token: pageToken }),
    (answer) =>
      table(
        [
          { label: "CDR", value: (c) => c.id },
          { label: "Station", value: (c) => c.station_id },
          { label: "Token", value: (c) => (c.id_token && c.id_token.id) || "–" },
          { label: "Start", value: (c) => fmt.time(c.started_at) },
          { label: "End", value: (c) => fmt.time(c.ended_at) },
          { label: "Energy", value: (c) => fmt.kwh(c.energy_kwh), class: "num" },
          { label: "Total incl. VAT", value: (c) => fmt.money(c.cost && c.cost.total_incl_vat, c.cost && c.cost.currency), class: "num" },
          { label: "Tariff", value: (c) => (c.cost && c.cost.tariff_id) || "–" },
        ],
        items(answer),
        { empty: "No CDR in this period." },
      ),
  );
  await pager.first();
}
