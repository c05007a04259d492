// Id tokens: server-side paged list with search; blocked and expired tokens stand out.

import { get, items } from "../api.js";
import { fmt, h, label, statusBadge, table, tokenPager } from "../ui.js";

export async function render(root) {
  const q = h("input", { type: "search", name: "q", placeholder: "token id" });
  const box = h("div", { id: "token-list" });
  root.append(
    h("div", { class: "page-head" }, h("h1", {}, "Id tokens")),
    h(
      "section",
      { class: "card" },
      h("form", { class: "toolbar", onsubmit: (e) => { e.preventDefault(); pager.first(); } }, h("label", {}, "Search", q), h("button", { type: "submit" }, "Apply")),
      box,
    ),
  );
  const pager = tokenPager(
    box,
    (pageToken) => get("/tokens", { q: q.value.trim(), page_size: 50, page_token: pageToken }),
    (answer) =>
      table(
        [
          { label: "Token", value: (t) => t.id_token || t.id || t.value },
          { label: "Type", value: (t) => label(t.type || t.token_type) },
          { label: "Status", value: (t) => statusBadge(label(t.status || (t.blocked ? "blocked" : "accepted"))) },
          { label: "Group", value: (t) => t.group_id || t.group || "–" },
          { label: "Expires", value: (t) => fmt.time(t.expires_at || t.expiry) },
        ],
        items(answer),
        { empty: "No token matches." },
      ),
  );
  await pager.first();
}
