// Tariffs: the list and which one applies where (admins manage them from the CLI or API).

import { get, items } from "../api.js";
import { fmt, h, label, section, table } from "../ui.js";

function components(t) {
  const parts = [];
  for (const el of t.elements || []) {
    for (const c of el.price_components || []) {
      parts.push(`${label(c.type)} ${c.price} ${t.currency}${c.step_size > 1 ? ` (step ${c.step_size})` : ""}`);
    }
  }
  return parts.join(", ") || "–";
}

export async function render(root) {
  root.append(h("div", { class: "page-head" }, h("h1", {}, "Tariffs")));
  await section(root, "Tariffs", async () =>
    table(
      [
        { label: "Tariff", value: (t) => t.id },
        { label: "Version", value: (t) => t.version, class: "num" },
        { label: "Text", value: (t) => t.display_text || "–" },
        { label: "Effective from", value: (t) => fmt.time(t.effective_from) },
        { label: "Currency", value: (t) => t.currency || "–" },
        { label: "Prices", value: components },
        { label: "VAT %", value: (t) => t.vat_percent ?? "–", class: "num" },
      ],
      items(await get("/tariffs", { page_size: 200 })),
      { empty: "No tariff yet (chargegrid tariffs add ...)." },
    ),
  );
}
