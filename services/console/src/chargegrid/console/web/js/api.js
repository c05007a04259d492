// The console's /api/v1 client: bearer token from sessionStorage, RFC 9457 problem+json
// turned into ApiError, and server-sent events read over fetch (EventSource cannot send an
// Authorization header, and the token must not travel in a URL).

const TOKEN_KEY = "chargegrid.token";
export const BASE = "/api/v1";

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.title = (problem && problem.title) || `HTTP ${status}`;
    this.detail = problem && problem.detail;
    this.problem = problem || {};
  }
}

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

const listeners = new Set();
/** Called with no argument when the server says the token is no longer valid (401). */
export function onUnauthorized(fn) {
  listeners.add(fn);
}

function query(params) {
  if (!params) return "";
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === "") continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

async function problemOf(response) {
  const type = response.headers.get("content-type") || "";
  if (type.includes("json")) {
    try {
      return await response.json();
    } catch {
      return null;
    }
  }
  const text = await response.text().catch(() => "");
  return { title: response.statusText, detail: text.slice(0, 300) };
}

export async function request(method, path, { params, body, raw = false } = {}) {
  const headers = { Accept: "application/json" };
  const bearer = token.get();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(BASE + path + query(params), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiError(503, { title: "Console unreachable", detail: String(error.message || error) });
  }
  if (!response.ok) {
    const problem = await problemOf(response);
    if (response.status === 401) for (const fn of listeners) fn();
    throw new ApiError(response.status, problem);
  }
  if (raw) return response;
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  return type.includes("json") ? response.json() : response.text();
}

export const get = (path, params) => request("GET", path, { params });
export const post = (path, body) => request("POST", path, { body: body ?? {} });
export const put = (path, body) => request("PUT", path, { body: body ?? {} });
export const patch = (path, body) => request("PATCH", path, { body: body ?? {} });
export const del = (path) => request("DELETE", path);

/** The items of a list answer, whatever the envelope is called. */
export function items(answer) {
  if (Array.isArray(answer)) return answer;
  if (!answer || typeof answer !== "object") return [];
  for (const key of ["items", "data", "results"]) if (Array.isArray(answer[key])) return answer[key];
  const arrays = Object.values(answer).filter(Array.isArray);
  return arrays.length === 1 ? arrays[0] : [];
}

/** Downloads a GET answer (CSV export) as a file, with the bearer token. */
export async function download(path, params, filename) {
  const response = await request("GET", path, { params, raw: true });
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/**
 * Subscribes to /events/stream: asks POST /events/ticket for a short-lived ticket (EventSource
 * cannot send the bearer header, and the API token must never travel in a URL), then listens
 * for the named event types. onEvent(type, data) gets each parsed event; onState reports
 * "live" / "reconnecting". A dropped stream reconnects with a fresh ticket and backoff.
 * Returns close().
 */
export function subscribe(params, types, onEvent, onState = () => {}) {
  let closed = false;
  let source = null;
  let delay = 1000;
  let timer = null;

  function deliver(type, event) {
    let data = event.data;
    try {
      data = JSON.parse(data);
    } catch {
      /* plain text event */
    }
    onEvent(type, data);
  }

  async function open() {
    if (closed) return;
    let ticket;
    try {
      const answer = await post("/events/ticket", {});
      ticket = answer.ticket;
    } catch (error) {
      if (error.status === 401) return;
      return retry();
    }
    if (closed) return;
    source = new EventSource(`${BASE}/events/stream${query({ ...params, ticket })}`);
    source.onopen = () => {
      delay = 1000;
      onState("live");
    };
    source.onerror = () => {
      if (source) source.close();
      source = null;
      retry();
    };
    for (const type of [...types, "message"]) {
      source.addEventListener(type, (event) => deliver(type, event));
    }
  }

  function retry() {
    if (closed) return;
    onState("reconnecting");
    timer = setTimeout(open, delay);
    delay = Math.min(delay * 2, 15000);
  }

  open();
  return () => {
    closed = true;
    clearTimeout(timer);
    if (source) source.close();
    source = null;
  };
}
