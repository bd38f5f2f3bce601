// Runs: every run folder, one run's curves, confusion matrix and worst errors, and two runs'
// curves on one chart.
"use strict";

const field = (id) => document.getElementById(id);
const message = field("message");
const COLORS = [
  { train: "#2563eb", test: "#f59e0b" }, // one run, or the first of two compared
  { train: "#0d9488", test: "#9333ea" }, // the second of two compared (also dashed)
];
const compared = []; // names of the (at most two) ticked runs, oldest tick first
let detailCharts = [];
let compareChart = null;

function row(run) {
  const tick = lab.el("input", { type: "checkbox", value: run.name, title: "compare" });
  tick.addEventListener("change", () => toggleCompare(run.name, tick.checked));
  // The page's own address: a bare "#name" would resolve against the lab's <base>.
  const here = location.pathname + location.search;
  const link = lab.el("a", { className: "run-link", href: here + "#" + run.name }, run.name);
  link.addEventListener("click", (event) => {
    event.preventDefault();
    openRun(run.name);
  });
  const state = run.error
    ? "unreadable"
    : run.training
      ? "training"
      : run.complete
        ? "complete"
        : "incomplete";
  const cells = [
    [tick, ""],
    [link, ""],
    [run.model, ""],
    [run.dataset, ""],
    [lab.percent(run.test_accuracy, 2), "num"],
    [run.planned_epochs ? `${run.epochs} / ${run.planned_epochs}` : run.epochs, "num"],
    [lab.seconds(run.train_seconds), "num"],
    [run.date, ""],
    [state, ""],
  ];
  const tr = lab.el("tr", {}, ...cells.map(([c, cls]) => lab.el("td", { className: cls }, c)));
  tr.dataset.run = run.name;
  return tr;
}

async function loadRuns() {
  const runs = await lab.api("api/runs");
  field("runs").replaceChildren(...runs.map(row));
  if (!runs.length) lab.say(message, "No runs yet: train one on the Train page, or with `dnnx train`.");
  const wanted = decodeURIComponent(location.hash.slice(1));
  if (wanted && runs.some((r) => r.name === wanted)) openRun(wanted);
}

function curveSeries(metrics, key, label, which = 0) {
  const dash = which ? [6, 4] : [];
  const color = COLORS[which];
  return ["train", "test"].map((split) => ({
    label: `${label}${split}`,
    color: color[split],
    dash,
    points: 3,
    data: metrics.map((m) => ({ x: m.epoch, y: m[`${split}_${key}`] })),
  }));
}

function plot(canvas, title, series, yMax) {
  const chart = lab.lineChart(canvas, title, series, yMax);
  series.forEach((s, i) => (chart.data.datasets[i].data = s.data));
  chart.update();
  return chart;
}

async function openRun(name) {
  for (const tr of field("runs").children) tr.classList.toggle("selected", tr.dataset.run === name);
  history.replaceState(null, "", "#" + name);
  const run = await lab.api(lab.runUrl(name));
  const s = run.summary;
  field("detail").classList.remove("hidden");
  field("detail-title").textContent =
    `${name}: ${run.config.model} on ${run.config.dataset}` +
    (s ? `, test accuracy ${lab.percent(s.test_accuracy, 2)}, ${s.params.toLocaleString("en")} parameters` : "");
  field("detail-loss-title").textContent = lab.lossTitle(run.config);
  for (const chart of detailCharts) chart.destroy();
  detailCharts = [
    plot(field("detail-loss"), "loss", curveSeries(run.metrics, "loss", "")),
    plot(field("detail-accuracy"), "accuracy", curveSeries(run.metrics, "accuracy", ""), 1),
  ];
  showAnalysis(name, run.has_weights);
}

async function showAnalysis(name, hasWeights) {
  const note = field("analysis-message");
  field("confusion").replaceChildren();
  field("errors").replaceChildren();
  if (!hasWeights) {
    lab.say(note, "no weights yet: the run has not finished an epoch");
    return;
  }
  lab.say(note, "evaluating the test set…");
  try {
    const a = await lab.api(lab.runUrl(name, "/analysis"));
    lab.say(note, `test accuracy ${lab.percent(a.test_accuracy, 2)}`);
    showConfusion(a);
    lab.showPictures(
      field("errors"),
      a.errors.map((e) => e.image),
      a.errors.map((e) => lab.el("span", {}, "pred ", lab.el("b", {}, e.predicted), ` (${e.true}) ${lab.percent(e.confidence, 0)}`)),
    );
  } catch (error) {
    lab.say(note, error.message, "error");
  }
}

function showConfusion(a) {
  const top = Math.max(...a.confusion.flat());
  const head = lab.el("tr", {}, lab.el("th"), ...a.classes.map((_, j) => lab.el("th", {}, j)));
  const rows = a.confusion.map((counts, i) =>
    lab.el(
      "tr",
      {},
      lab.el("th", { title: a.classes[i] }, i),
      ...counts.map((n, j) => {
        const cell = lab.el("td", { className: i === j ? "diagonal" : "" }, n);
        // A log scale, so the few mistakes still show next to the large diagonal.
        const shade = n ? Math.log1p(n) / Math.log1p(top) : 0;
        cell.style.backgroundColor = i === j
          ? `rgba(4, 120, 87, ${0.15 + 0.6 * shade})`
          : `rgba(185, 28, 28, ${0.8 * shade})`;
        if (shade > 0.55) cell.style.color = "#fff";
        return cell;
      }),
    ),
  );
  field("confusion").replaceChildren(head, ...rows);
}

function toggleCompare(name, on) {
  const at = compared.indexOf(name);
  if (on && at < 0) compared.push(name);
  if (!on && at >= 0) compared.splice(at, 1);
  while (compared.length > 2) {
    const dropped = compared.shift(); // keep the two latest ticks
    for (const box of field("runs").querySelectorAll("input[type=checkbox]")) {
      if (box.value === dropped) box.checked = false;
    }
  }
  drawComparison();
}

async function drawComparison() {
  field("compare-box").classList.toggle("hidden", compared.length !== 2);
  if (compared.length !== 2) return;
  const key = field("compare-metric").value;
  const [a, b] = await Promise.all(compared.map((n) => lab.api(lab.runUrl(n))));
  const series = [
    ...curveSeries(a.metrics, key, `${a.name}: `),
    ...curveSeries(b.metrics, key, `${b.name}: `, 1),
  ];
  field("compare-title").textContent = `${a.name} (solid) vs ${b.name} (dashed)`;
  if (compareChart) compareChart.destroy();
  compareChart = plot(field("compare-chart"), key, series, key === "accuracy" ? 1 : undefined);
}

field("compare-metric").addEventListener("change", drawComparison);
loadRuns().catch((error) => lab.say(message, error.message, "error"));
