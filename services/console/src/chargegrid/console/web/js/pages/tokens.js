// Id tokens: server-side paged list with search; blocked and expired tokens stand out.

import { get, items } from "../api.js";
import { fmt, h, label, statusBadge, table, tokenPager } from "../ui.js";

export async function render(root) {
  const q = h("input", { type: "search", name: "q", placeholder: "token id starts with" });
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
    (pageToken) => get("/tokens", { id_prefix: q.value.trim(), page_size: 50, page_token: pageToken }),
    (answer) =>
      table(
        [
          { label: "Token", value: (t) => t.id_token },
          { label: "Type", value: (t) => label(t.type) },
          { label: "Status", value: (t) => statusBadge(label(t.status)) },
          { label: "Group", value: (t) => t.group_id || "–" },
          { label: "Max concurrent", value: (t) => t.max_concurrent_transactions || "–", class: "num" },
          { label: "Expires", value: (t) => fmt.time(t.expires_at) },
        ],
        items(answer),
        { empty: "No token matches." },
      ),
  );
  await pager.first();
}
