// Chart.js (vendored, window.Chart) behind two helpers. Charts are registered on their canvas,
// so Chart.getChart(canvas) gives the data shown (the browser tests read it from there). The
// library is loaded on the first chart only: pages without charts do not parse its 200 KB.

let library = null;

function loadLibrary() {
  if (window.Chart) return Promise.resolve(window.Chart);
  if (!library) {
    library = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = "vendor/chart.umd.min.js";
      script.onload = () => resolve(window.Chart);
      script.onerror = () => {
        library = null;
        reject(new Error("the chart library (vendor/chart.umd.min.js) did not load"));
      };
      document.head.append(script);
    });
  }
  return library;
}

const COLORS = ["#0b6bcb", "#1f8a4c", "#c53030", "#b7791f", "#6b46c1", "#2c7a7b", "#718096"];

export function color(i) {
  return COLORS[i % COLORS.length];
}

/** A chart in a fixed-height box; kind "line" or "bar"; datasets [{label, data, ...}]. */
export async function chart(box, kind, labels, datasets, options = {}) {
  const Chart = await loadLibrary();
  const canvas = document.createElement("canvas");
  canvas.setAttribute("role", "img");
  box.replaceChildren(canvas);
  return new Chart(canvas, {
    type: kind,
    data: {
      labels,
      datasets: datasets.map((d, i) => ({
        borderColor: d.color || color(i),
        backgroundColor: d.fill || d.color || color(i),
        pointRadius: kind === "line" ? 0 : undefined,
        borderWidth: kind === "line" ? 2 : 0,
        tension: 0.2,
        ...d,
      })),
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { position: "bottom" } },
      ...options,
    },
  });
}

export function chartBox(id) {
  const box = document.createElement("div");
  box.className = "chart-box";
  box.id = id;
  return box;
}
