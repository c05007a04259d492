// Small DOM helpers shared by every page: element builder, tables, banners, the confirmation
// dialog and formatters. No framework: the dashboard must run from the package as it is.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === "class") {
      el.className = value;
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

/** A banner that says what failed (a 503 names the service that is down). */
export function banner(error, context = "") {
  const status = error && error.status;
  const down = status === 503 || status === 502 || status === 504;
  const title = (error && error.title) || (down ? "Service unavailable" : "Request failed");
  const detail = (error && (error.detail || error.message)) || String(error);
  return h(
    "div",
    { class: `banner ${down ? "banner-down" : "banner-error"}`, role: "alert", dataset: { status: status || "" } },
    h("strong", {}, context ? `${context}: ${title}` : title),
    " ",
    h("span", {}, detail),
  );
}

/**
 * A section that loads on its own: a failing service replaces only this section's body with a
 * banner, the rest of the page still renders.
 */
export async function section(parent, title, load, { id, wide } = {}) {
  const body = h("div", { class: "section-body" }, h("p", { class: "muted" }, "Loading…"));
  const el = h("section", { class: wide ? "card wide" : "card", id }, title ? h("h2", {}, title) : null, body);
  parent.append(el);
  try {
    const content = await load(body);
    clear(body);
    if (content) body.append(content);
  } catch (error) {
    clear(body);
    body.append(banner(error));
    if (!(error && error.status)) console.error(error);
  }
  return el;
}

/** columns: [{label, value: row => text|Node, class?}] */
export function table(columns, rows, { empty = "Nothing here yet.", rowAttrs } = {}) {
  if (!rows || rows.length === 0) return h("p", { class: "muted empty" }, empty);
  return h(
    "table",
    { class: "grid" },
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { class: c.class }, c.label)))),
    h(
      "tbody",
      {},
      rows.map((row) =>
        h(
          "tr",
          rowAttrs ? rowAttrs(row) : {},
          columns.map((c) => h("td", { class: c.class }, c.value(row) ?? "")),
        ),
      ),
    ),
  );
}

export function kpi(label, value, { id, tone } = {}) {
  return h(
    "div",
    { class: `kpi ${tone ? `kpi-${tone}` : ""}`, id },
    h("div", { class: "kpi-value", dataset: { kpi: id || label } }, value),
    h("div", { class: "kpi-label" }, label),
  );
}

export function statusBadge(status) {
  const text = status || "unknown";
  const tone = String(text).toLowerCase().replace(/[^a-z]/g, "");
  return h("span", { class: `badge badge-${tone}`, dataset: { status: text } }, text);
}

/** Resolves true when the operator confirms in the modal dialog, false otherwise. */
export function confirmDialog(title, message, { confirmLabel = "Confirm", fields = [] } = {}) {
  return new Promise((resolve) => {
    const inputs = fields.map((f) =>
      f.options
        ? h("select", { name: f.name }, f.options.map((o) => h("option", { value: o }, o)))
        : h("input", { name: f.name, value: f.value ?? "", placeholder: f.placeholder ?? "", required: f.required }),
    );
    const form = h(
      "form",
      { method: "dialog", class: "dialog-form" },
      h("h3", {}, title),
      h("p", {}, message),
      fields.map((f, i) => h("label", {}, f.label, inputs[i])),
      h(
        "div",
        { class: "dialog-buttons" },
        h("button", { value: "cancel", type: "submit", formnovalidate: true, class: "secondary" }, "Cancel"),
        h("button", { value: "ok", type: "submit", class: "danger", dataset: { confirm: "" } }, confirmLabel),
      ),
    );
    const dialog = h("dialog", { class: "confirm" }, form);
    dialog.addEventListener("close", () => {
      const ok = dialog.returnValue === "ok";
      const values = Object.fromEntries(fields.map((f, i) => [f.name, inputs[i].value]));
      dialog.remove();
      resolve(ok ? { values } : null);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

export function toast(message, tone = "ok") {
  const el = h("div", { class: `toast toast-${tone}`, role: "status" }, message);
  document.body.append(el);
  setTimeout(() => el.remove(), 6000);
}

export const fmt = {
  number(v, digits = 0) {
    if (v === undefined || v === null || v === "" || Number.isNaN(Number(v))) return "–";
    return Number(v).toLocaleString("en-GB", { maximumFractionDigits: digits, minimumFractionDigits: digits });
  },
  kw(v) {
    return `${fmt.number(v, 1)} kW`;
  },
  kwh(v) {
    return `${fmt.number(v, 2)} kWh`;
  },
  time(v) {
    if (!v) return "–";
    const d = new Date(v);
    return Number.isNaN(d.getTime()) ? String(v) : d.toLocaleString("en-GB", { hour12: false });
  },
  money(v, currency) {
    if (v === undefined || v === null) return "–";
    return `${fmt.number(v, 2)} ${currency || ""}`.trim();
  },
};

/** The first defined value among several candidate keys (tolerates API field naming). */
export function pick(obj, ...keys) {
  if (!obj) return undefined;
  for (const key of keys) {
    const value = key.split(".").reduce((o, k) => (o == null ? undefined : o[k]), obj);
    if (value !== undefined && value !== null) return value;
  }
  return undefined;
}

const ENUM_PREFIX =
  /^(ALLOCATION_REASON|AUTHORIZATION_STATUS|CAMPAIGN_STATE|CHARGING_PROFILE_PURPOSE|CONNECTOR_STATUS|DAY_OF_WEEK|DEMAND_RESPONSE_STATE|DIRECTION|GRANULARITY|OCPP_VERSION|PRICE_COMPONENT_TYPE|REGISTRATION_STATUS|RESET_KIND|ROLE|SCOPE_KIND|SESSION_STATUS|TOKEN_TYPE|UPDATE_STATE)_/;

/** A proto enum name as people read it: CONNECTOR_STATUS_SUSPENDED_EV -> "Suspended EV". */
export function label(value) {
  if (value === undefined || value === null || value === "") return "–";
  const s = String(value);
  if (!/^[A-Z0-9_]+$/.test(s)) return s;
  const version = { OCPP_VERSION_16: "1.6", OCPP_VERSION_201: "2.0.1", OCPP_VERSION_21: "2.1" }[s];
  if (version) return `OCPP ${version}`;
  const rest = s.replace(ENUM_PREFIX, "");
  if (rest === "UNSPECIFIED") return "–";
  return rest
    .split("_")
    .map((w) => (w.length <= 3 && /\d|EV|DR|AC|DC|CDR/.test(w) ? w : w[0] + w.slice(1).toLowerCase()))
    .join(" ")
    .replace(/^Ocpp /, "OCPP ");
}

/**
 * A paged list with next_page_token answers: keeps the tokens of earlier pages so Previous
 * works. load(pageToken) -> answer; render(answer) -> Node.
 */
export function tokenPager(target, load, render) {
  const previous = [];
  let current = "";
  async function show(pageToken) {
    let answer;
    try {
      answer = await load(pageToken);
    } catch (error) {
      clear(target).append(banner(error));
      return;
    }
    current = pageToken;
    const next = answer && answer.next_page_token;
    const total = answer && answer.total;
    clear(target).append(
      render(answer),
      h(
        "div",
        { class: "pager" },
        h(
          "button",
          { class: "secondary", disabled: previous.length === 0, onclick: () => show(previous.pop()) },
          "‹ Previous",
        ),
        h("span", { class: "muted", dataset: { total: total ?? "" } }, total ? `${total} in all` : ""),
        h(
          "button",
          {
            class: "secondary",
            disabled: !next,
            onclick: () => {
              previous.push(current);
              show(next);
            },
          },
          "Next ›",
        ),
      ),
    );
  }
  return {
    reload: () => show(current),
    first: () => {
      previous.length = 0;
      return show("");
    },
  };
}
