// Live sessions: the active sessions, updated in place from session.* events (energy, power,
// state of charge) without a reload; a closed session leaves the table.

import { get, items, subscribe } from "../api.js";
import { fmt, h, label, statusBadge, table } from "../ui.js";

function rowsOf(map) {
  return [...map.values()].sort((a, b) => String(a.started_at).localeCompare(String(b.started_at)));
}

function render_table(map) {
  return table(
    [
      { label: "Session", value: (s) => s.id },
      { label: "Station", value: (s) => h("a", { href: `#/stations/${encodeURIComponent(s.station_id)}` }, s.station_id) },
      { label: "EVSE", value: (s) => s.evse_id, class: "num" },
      { label: "Token", value: (s) => (s.id_token && s.id_token.id) || "–" },
      { label: "Status", value: (s) => statusBadge(label(s.status)) },
      { label: "Energy", value: (s) => h("span", { class: "energy", dataset: { wh: s.energy_wh } }, fmt.kwh((s.energy_wh || 0) / 1000)), class: "num" },
      { label: "Power", value: (s) => fmt.kw((s.power_w || 0) / 1000), class: "num" },
      { label: "SoC", value: (s) => (s.soc_percent ? `${fmt.number(s.soc_percent)} %` : "–"), class: "num" },
      { label: "Started", value: (s) => fmt.time(s.started_at) },
      { label: "Updated", value: (s) => fmt.time(s.updated_at) },
    ],
    rowsOf(map),
    { empty: "No session is active.", rowAttrs: (s) => ({ dataset: { session: s.id } }) },
  );
}

export async function render(root) {
  const live = h("span", { class: "live", id: "live-state" }, "connecting");
  const count = h("span", { class: "muted", id: "session-count" });
  const box = h("div", { id: "sessions" });
  root.append(h("div", { class: "page-head" }, h("h1", {}, "Live sessions"), count, live), h("section", { class: "card" }, box));
  const sessions = new Map();
  const redraw = () => {
    box.replaceChildren(render_table(sessions));
    count.textContent = `${sessions.size} active`;
  };
  const answer = await get("/sessions", { active: true });
  for (const s of items(answer)) sessions.set(s.id, s);
  redraw();
  let pending = false;
  return subscribe(
    { kinds: "session" },
    ["session.opened", "session.updated", "session.closed"],
    (type, s) => {
      if (!s || !s.id) return;
      if (type === "session.closed") sessions.delete(s.id);
      else sessions.set(s.id, s);
      if (!pending) {
        pending = true;
        setTimeout(() => {
          pending = false;
          redraw();
        }, 100);
      }
    },
    (state) => {
      live.dataset.state = state;
      live.textContent = state === "live" ? "live" : "reconnecting…";
    },
  );
}
