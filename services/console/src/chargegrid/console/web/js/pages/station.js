// One station: its connectors (live), status history, configuration, firmware, logs and
// security events, and, for operators, the commands, each behind a confirmation dialog.

import { get, items, post, subscribe } from "../api.js";
import { banner, clear, confirmDialog, fmt, h, label, section, statusBadge, table, toast } from "../ui.js";
import { connectors } from "./stations.js";

const TRIGGERS = ["StatusNotification", "Heartbeat", "BootNotification", "MeterValues", "FirmwareStatusNotification", "DiagnosticsStatusNotification", "LogStatusNotification"];

function facts(station) {
  const rows = [
    ["Site", station.site_id || "–"],
    ["Online", statusBadge(station.online ? "online" : "offline")],
    ["Registration", label(station.registration_status)],
    ["Vendor / model", [station.vendor, station.model].filter(Boolean).join(" / ") || "–"],
    ["Serial", station.serial_number || "–"],
    ["OCPP", label(station.ocpp_version)],
    ["Security profile", `${station.security_profile} (required ${station.required_security_profile})`],
    ["Last seen", fmt.time(station.last_seen)],
    ["Last boot", `${fmt.time(station.last_boot_at)} ${station.last_boot_reason || ""}`],
    ["Heartbeat", station.heartbeat_interval_s ? `${station.heartbeat_interval_s} s` : "–"],
  ];
  return h("dl", { class: "facts" }, rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

function connectorTable(station) {
  return table(
    [
      { label: "EVSE", value: (c) => c.evse_id },
      { label: "Connector", value: (c) => c.connector_id },
      { label: "Status", value: (c) => h("span", { class: "connector-status" }, statusBadge(label(c.status))) },
      { label: "Error", value: (c) => (c.error_code && c.error_code !== "NoError" ? c.error_code : "–") },
      { label: "Type", value: (c) => c.type || "–" },
      { label: "Max", value: (c) => (c.max_power_w ? fmt.kw(c.max_power_w / 1000) : "–"), class: "num" },
      { label: "Since", value: (c) => h("span", { class: "connector-since" }, fmt.time(c.status_at)) },
    ],
    connectors(station),
    { empty: "The station has reported no connector yet.", rowAttrs: (c) => ({ dataset: { connector: `${c.evse_id}/${c.connector_id}` } }) },
  );
}

function sessionTable(active) {
  return table(
    [
      { label: "Transaction", value: (s) => s.transaction_id || s.id },
      { label: "EVSE", value: (s) => s.evse_id },
      { label: "Token", value: (s) => (s.id_token && s.id_token.id) || "–" },
      { label: "Energy", value: (s) => fmt.kwh((s.energy_wh || 0) / 1000), class: "num" },
      { label: "Power", value: (s) => fmt.kw((s.power_w || 0) / 1000), class: "num" },
      { label: "Started", value: (s) => fmt.time(s.started_at) },
    ],
    [...active.values()],
    { empty: "Not charging." },
  );
}

function historyTable(changes) {
  return table(
    [
      { label: "When", value: (c) => fmt.time(c.occurred_at) },
      { label: "Change", value: (c) => c.kind || "status" },
      { label: "EVSE / connector", value: (c) => (c.kind === "status" ? `${c.evse_id} / ${c.connector_id}` : "–") },
      { label: "Status", value: (c) => (c.kind === "status" ? statusBadge(label(c.status)) : statusBadge(c.online ? "online" : "offline")) },
      { label: "Error", value: (c) => (c.error_code && c.error_code !== "NoError" ? c.error_code : "") },
    ],
    [...changes].reverse().slice(0, 50),
    { empty: "No change seen since the console started." },
  );
}

async function command(station, name, title, message, fields, toBody) {
  const answer = await confirmDialog(title, message, { confirmLabel: title, fields });
  if (!answer) return;
  try {
    const reply = await post(`/stations/${encodeURIComponent(station.id)}/commands/${name}`, toBody(answer.values));
    const results = reply && reply.results;
    const status = (reply && reply.status) || (results ? results.map((r) => r.status).join(", ") : "sent");
    const reason = reply && reply.status_reason ? ` (${reply.status_reason})` : "";
    toast(`${title}: ${status}${reason}`, /accept|unlock|sent|reboot/i.test(String(status)) ? "ok" : "bad");
    return reply;
  } catch (error) {
    toast(`${title} failed: ${error.detail || error.message}`, "bad");
    return null;
  }
}

function commandButtons(station, currentTransaction) {
  const id = station.id;
  const button = (text, name, onclick) => h("button", { type: "button", dataset: { command: name }, onclick }, text);
  const evse = { name: "evse_id", label: "EVSE (0 = whole station)", value: "0" };
  return h(
    "div",
    { class: "commands", id: "commands" },
    button("Reset", "reset", () =>
      command(station, "reset", "Reset", `Reset ${id}? Charging stops if a hard reset is chosen.`, [{ name: "kind", label: "Kind", options: ["soft", "hard", "on_idle"] }], (v) => ({ kind: v.kind })),
    ),
    button("Unlock", "unlock", () =>
      command(station, "unlock", "Unlock connector", `Unlock a connector of ${id}?`, [{ ...evse, label: "EVSE", value: "1" }, { name: "connector_id", label: "Connector", value: "1" }], (v) => ({ evse_id: Number(v.evse_id), connector_id: Number(v.connector_id) })),
    ),
    button("Availability", "availability", () =>
      command(station, "availability", "Change availability", `Change the availability of ${id}?`, [{ name: "operative", label: "Set", options: ["operative", "inoperative"] }, evse], (v) => ({ operative: v.operative === "operative", evse_id: Number(v.evse_id) })),
    ),
    button("Remote start", "start", () =>
      command(station, "start", "Remote start", `Start charging on ${id}?`, [{ name: "id_token", label: "Id token", required: true, placeholder: "SIMTAG0001" }, { ...evse, label: "EVSE", value: "1" }], (v) => ({ id_token: v.id_token, evse_id: Number(v.evse_id) })),
    ),
    button("Remote stop", "stop", () =>
      command(station, "stop", "Remote stop", `Stop a transaction on ${id}?`, [{ name: "transaction_id", label: "Transaction id", required: true, value: currentTransaction() || "" }], (v) => ({ transaction_id: v.transaction_id })),
    ),
    button("Trigger message", "trigger", () =>
      command(station, "trigger", "Trigger message", `Ask ${id} to send a message?`, [{ name: "message", label: "Message", options: TRIGGERS }], (v) => ({ message: v.message })),
    ),
    button("Set configuration", "set-configuration", () =>
      command(station, "set-configuration", "Set configuration", `Change a configuration key of ${id}?`, [{ name: "key", label: "Key", required: true, placeholder: "HeartbeatInterval" }, { name: "value", label: "Value", value: "" }], (v) => ({ values: [{ key: v.key, value: v.value }] })),
    ),
  );
}

function configurationView(state) {
  const keys = state.keys || [];
  return table(
    [
      { label: "Key", value: (k) => k.key },
      { label: "Desired", value: (k) => k.desired_value || "–" },
      { label: "Reported", value: (k) => k.reported_value || "–" },
      { label: "State", value: (k) => statusBadge(k.status || "–") },
    ],
    keys,
    { empty: "No desired or reported configuration tracked for this station." },
  );
}

async function stationConfiguration(station, target) {
  try {
    const reply = await post(`/stations/${encodeURIComponent(station.id)}/commands/get-configuration`, { keys: [] });
    const list = reply.values || [];
    clear(target).append(
      table(
        [
          { label: "Key", value: (v) => v.key },
          { label: "Value", value: (v) => v.value ?? "" },
          { label: "Read-only", value: (v) => (v.readonly ? "yes" : "") },
        ],
        list,
        { empty: "The station reported no keys." },
      ),
      reply.unknown_keys && reply.unknown_keys.length ? h("p", { class: "muted" }, `Unknown: ${reply.unknown_keys.join(", ")}`) : null,
    );
  } catch (error) {
    clear(target).append(banner(error, "Get configuration"));
  }
}

export async function render(root, ctx) {
  const id = ctx.params.id;
  const path = `/stations/${encodeURIComponent(id)}`;
  let station;
  try {
    station = await get(path);
  } catch (error) {
    root.append(h("div", { class: "page-head" }, h("h1", {}, id)), banner(error, "Station"));
    return undefined;
  }
  const active = new Map((station.active_sessions || []).map((s) => [s.id, s]));
  const sessionsBox = h("div", { id: "station-sessions" });
  const live = h("span", { class: "live", id: "live-state" }, "connecting");
  const connectorsBox = h("div", { id: "connectors" }, connectorTable(station));
  const historyBox = h("div", { id: "status-history" });
  root.append(
    h("div", { class: "page-head" }, h("h1", { dataset: { station: id } }, id), statusBadge(station.online ? "online" : "offline"), live),
    ctx.canCommand ? h("section", { class: "card" }, h("h2", {}, "Commands"), commandButtons(station, () => [...active.values()][0]?.transaction_id)) : null,
    h("div", { class: "cards" }, h("section", { class: "card" }, h("h2", {}, "Station"), facts(station)), h("section", { class: "card" }, h("h2", {}, "Connectors"), connectorsBox)),
  );
  const cards = h("div", { class: "cards" });
  root.append(cards);
  let changes = [];
  await Promise.all([
    section(cards, "Status history", async () => {
      changes = (await get(`${path}/status-history`)).changes || [];
      historyBox.append(historyTable(changes));
      return historyBox;
    }),
    section(cards, "Active sessions", async () => {
      sessionsBox.append(sessionTable(active));
      return sessionsBox;
    }),
    section(cards, "Configuration (tracked)", async () => configurationView(await get(`${path}/configuration`))),
    section(cards, "Firmware", async () => {
      const update = await get(`${path}/firmware`).catch((error) => {
        if (error.status === 404) return null;
        throw error;
      });
      return h(
        "div",
        {},
        h("p", {}, "Installed: ", h("strong", {}, station.firmware_version || "unknown")),
        update && update.image_id
          ? h(
              "dl",
              { class: "facts" },
              h("dt", {}, "Last update"),
              h("dd", {}, `image ${update.image_id}${update.campaign_id ? ` (campaign ${update.campaign_id})` : ""}`),
              h("dt", {}, "State"),
              h("dd", {}, statusBadge(label(update.state)), " ", update.detail || ""),
              h("dt", {}, "Attempts"),
              h("dd", {}, update.attempts),
              h("dt", {}, "Updated"),
              h("dd", {}, fmt.time(update.updated_at)),
            )
          : h("p", { class: "muted" }, "No firmware update sent to this station."),
      );
    }),
    section(cards, "Logs", async () =>
      table(
        [
          { label: "Kind", value: (l) => l.kind },
          { label: "Status", value: (l) => statusBadge(l.status || "requested") },
          { label: "Requested", value: (l) => fmt.time(l.requested_at) },
          { label: "File", value: (l) => l.file_name || "–" },
        ],
        items(await get("/logs", { station_id: id, page_size: 20 })),
        { empty: "No log requested from this station." },
      ),
    ),
    section(cards, "Security events", async () =>
      table(
        [
          { label: "When", value: (e) => fmt.time(e.occurred_at) },
          { label: "Type", value: (e) => e.type },
          { label: "Critical", value: (e) => (e.critical ? statusBadge("critical") : "") },
          { label: "Info", value: (e) => e.tech_info || "" },
        ],
        items(await get("/security-events", { station_id: id, page_size: 20 })),
        { empty: "No security event from this station." },
      ),
    ),
  ]);
  if (ctx.canCommand) {
    const target = h("div", {}, h("p", { class: "muted" }, "Ask the station for every key it has."));
    root.append(
      h(
        "section",
        { class: "card", id: "station-configuration" },
        h("h2", {}, "Configuration on the station"),
        h("button", { type: "button", class: "secondary", dataset: { command: "get-configuration" }, onclick: () => stationConfiguration(station, target) }, "Get configuration"),
        target,
      ),
    );
  }

  return subscribe(
    { kinds: "station,session", station_id: id },
    ["station.status", "session.opened", "session.updated", "session.closed"],
    (type, update) => {
      if (!update || update.station_id !== id) return;
      if (type.startsWith("session.")) {
        if (type === "session.closed") active.delete(update.id);
        else active.set(update.id, update);
        sessionsBox.replaceChildren(sessionTable(active));
        return;
      }
      changes.push(update);
      historyBox.replaceChildren(historyTable(changes));
      if (update.kind === "status") {
        const row = connectorsBox.querySelector(`tr[data-connector="${update.evse_id}/${update.connector_id}"]`);
        if (row) {
          row.querySelector(".connector-status").replaceChildren(statusBadge(label(update.status)));
          row.querySelector(".connector-since").textContent = fmt.time(update.occurred_at);
        } else {
          get(path).then((s) => connectorsBox.replaceChildren(connectorTable(s))).catch(() => {});
        }
      }
    },
    (state) => {
      live.dataset.state = state;
      live.textContent = state === "live" ? "live" : "reconnecting…";
    },
  );
}
