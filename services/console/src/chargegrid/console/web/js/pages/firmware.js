// Firmware: images and campaigns with their progress (done / failed / in flight of targets).

import { get, items } from "../api.js";
import { fmt, h, label, section, statusBadge, table } from "../ui.js";

function progress(c) {
  const done = Number(c.succeeded || 0);
  const failed = Number(c.failed || 0);
  const skipped = Number(c.skipped || 0);
  const total = done + failed + skipped + Number(c.queued || 0) + Number(c.in_progress || 0);
  const share = total ? (100 * (done + failed + skipped)) / total : 0;
  return h(
    "div",
    { class: "campaign-progress", dataset: { done, failed, total } },
    h("div", { class: "progress", title: `${fmt.number(share)} %` }, h("div", { style: `width:${share}%` })),
    h("span", { class: "muted" }, `${done} done, ${failed} failed, ${c.in_progress || 0} in flight of ${total}`),
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
        { label: "Vendor / model", value: (i) => [i.vendor, i.model].filter(Boolean).join(" / ") || "–" },
        { label: "Location", value: (i) => i.location || "–" },
      ],
      items(await get("/firmware/images", { page_size: 100 })),
      { empty: "No image registered." },
    ),
  );
}
