// Tariffs: the list and which one applies where (admins manage them from the CLI or API).

import { get, items } from "../api.js";
import { h, label, section, table } from "../ui.js";

function components(t) {
  const list = t.elements || t.components || [];
  const parts = [];
  for (const el of list) for (const c of el.price_components || el.components || [el]) {
    if (c.type || c.price) parts.push(`${label(c.type)} ${c.price}${c.step_size ? ` / ${c.step_size}` : ""}`);
  }
  return parts.join(", ") || t.energy_price || "–";
}

export async function render(root) {
  root.append(h("div", { class: "page-head" }, h("h1", {}, "Tariffs")));
  await section(root, "Tariffs", async () =>
    table(
      [
        { label: "Tariff", value: (t) => t.id },
        { label: "Name", value: (t) => t.name || "–" },
        { label: "Currency", value: (t) => t.currency || "–" },
        { label: "Prices", value: components },
        { label: "VAT %", value: (t) => t.vat_percent ?? "–", class: "num" },
      ],
      items(await get("/tariffs", { page_size: 200 })),
      { empty: "No tariff yet (chargegrid tariffs add ...)." },
    ),
  );
}
