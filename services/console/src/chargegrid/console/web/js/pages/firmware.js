// Firmware: images and campaigns with their progress (done / failed / in flight of targets).

import { get, items } from "../api.js";
import { fmt, h, label, section, statusBadge, table } from "../ui.js";

function progress(c) {
  const p = c.progress || c;
  const total = Number(p.total ?? p.targets ?? 0);
  const done = Number(p.succeeded ?? p.done ?? p.installed ?? 0);
  const failed = Number(p.failed ?? 0);
  const share = total ? (100 * (done + failed)) / total : 0;
  return h(
    "div",
    { class: "campaign-progress", dataset: { done, failed, total } },
    h("div", { class: "progress", title: `${fmt.number(share)} %` }, h("div", { style: `width:${share}%` })),
    h("span", { class: "muted" }, `${done} done, ${failed} failed of ${total}`),
  );
}

export async function render(root) {
  root.append(h("div", { class: "page-head" }, h("h1", {}, "Firmware")));
  await section(root, "Campaigns", async () =>
    table(
      [
        { label: "Campaign", value: (c) => c.id },
        { label: "Image", value: (c) => c.image_id || "–" },
        { label: "State", value: (c) => statusBadge(label(c.state)) },
        { label: "Progress", value: progress },
        { label: "Created", value: (c) => fmt.time(c.created_at) },
      ],
      items(await get("/firmware/campaigns", { page_size: 100 })),
      { empty: "No campaign yet." },
    ),
  );
  await section(root, "Images", async () =>
    table(
      [
        { label: "Image", value: (i) => i.id },
        { label: "Version", value: (i) => i.version },
        { label: "Models", value: (i) => (i.models || []).join(", ") || i.model || "–" },
        { label: "Location", value: (i) => i.location || "–" },
      ],
      items(await get("/firmware/images", { page_size: 100 })),
      { empty: "No image registered." },
    ),
  );
}
