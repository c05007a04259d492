// The dashboard shell: sign-in, who am I (the role decides whether command buttons exist),
// and a hash router that loads one page module at a time and closes its live streams when
// the operator navigates away.

import { ApiError, get, onUnauthorized, token } from "./api.js";
import { banner, clear, h } from "./ui.js";

const PAGES = {
  overview: () => import("./pages/overview.js"),
  stations: () => import("./pages/stations.js"),
  station: () => import("./pages/station.js"),
  sessions: () => import("./pages/sessions.js"),
  cdrs: () => import("./pages/cdrs.js"),
  tariffs: () => import("./pages/tariffs.js"),
  tokens: () => import("./pages/tokens.js"),
  firmware: () => import("./pages/firmware.js"),
  energy: () => import("./pages/energy.js"),
  analytics: () => import("./pages/analytics.js"),
};

const view = document.getElementById("view");
let cleanup = null;
let me = null;
let generation = 0;

/** What a page gets: the signed-in caller and whether it may command. */
function context(params) {
  const role = String((me && me.role) || "viewer").toLowerCase();
  return {
    me,
    role,
    canCommand: role === "operator" || role === "admin",
    isAdmin: role === "admin",
    params,
    navigate: (hash) => {
      location.hash = hash;
    },
  };
}

function parseHash() {
  const parts = (location.hash.replace(/^#\/?/, "") || "overview").split("?");
  const segments = parts[0].split("/").filter(Boolean).map(decodeURIComponent);
  const query = Object.fromEntries(new URLSearchParams(parts[1] || ""));
  let name = segments[0] || "overview";
  if (name === "stations" && segments[1]) name = "station";
  return { name, id: segments[1], query };
}

async function route() {
  const mine = ++generation;
  if (cleanup) {
    try {
      cleanup();
    } catch (error) {
      console.error(error);
    }
    cleanup = null;
  }
  const { name, id, query } = parseHash();
  for (const link of document.querySelectorAll(".nav a")) {
    link.classList.toggle("active", link.dataset.page === (name === "station" ? "stations" : name));
  }
  clear(view);
  document.body.dataset.page = name;
  delete document.body.dataset.ready;
  const loader = PAGES[name];
  if (!loader) {
    view.append(banner(new ApiError(404, { title: "No such page", detail: location.hash })));
    return;
  }
  const root = h("div", { class: "page", dataset: { page: name } });
  view.append(root);
  try {
    const page = await loader();
    const result = await page.render(root, context({ id, query }));
    if (mine !== generation) {
      if (typeof result === "function") result();
      return;
    }
    cleanup = typeof result === "function" ? result : null;
  } catch (error) {
    root.append(banner(error, "This page could not be shown"));
    if (!(error instanceof ApiError)) console.error(error);
  }
  if (mine === generation) document.body.dataset.ready = name;
}

function showSignin(message) {
  document.getElementById("shell").hidden = true;
  document.getElementById("signin").hidden = false;
  const slot = clear(document.getElementById("signin-error"));
  if (message) slot.append(banner(message));
  document.getElementById("signin-token").focus();
}

async function start() {
  if (!token.get()) return showSignin();
  // Fetch the first page's module while /me is asked (route() then finds it loaded).
  const first = PAGES[parseHash().name];
  if (first) first().catch(() => {});
  try {
    me = await get("/me");
  } catch (error) {
    if (error.status === 401 || error.status === 403) token.clear();
    return showSignin(error);
  }
  document.getElementById("signin").hidden = true;
  document.getElementById("shell").hidden = false;
  const who = clear(document.getElementById("whoami"));
  who.append(h("span", {}, me.name || "signed in"), " · ", h("span", { id: "role", dataset: { role: me.role } }, me.role));
  document.body.dataset.role = String(me.role).toLowerCase();
  await route();
}

document.getElementById("signin-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const value = document.getElementById("signin-token").value.trim();
  if (!value) return;
  token.set(value);
  document.getElementById("signin-token").value = "";
  start();
});

document.getElementById("signout").addEventListener("click", () => {
  token.clear();
  me = null;
  if (cleanup) cleanup();
  cleanup = null;
  clear(view);
  showSignin();
});

onUnauthorized(() => {
  token.clear();
  showSignin(new ApiError(401, { title: "Signed out", detail: "the API token is no longer valid" }));
});

window.addEventListener("hashchange", () => {
  if (me) route();
});

start();
