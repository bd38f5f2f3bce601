// Train: start a run and watch it learn. The page follows the server's one training job through
// server-sent events; a page opened (or reloaded) mid-run gets the whole history replayed.
"use strict";

const form = document.getElementById("train-form");
const message = document.getElementById("message");
const field = (id) => document.getElementById(id);
const ACTIVE = new Set(["loading data", "training", "stopping"]);
let choices = null;
let job = { id: 0, status: "idle", epochs: 0 };

const TRAIN_COLOR = "#2563eb";
const TEST_COLOR = "#f59e0b";
const curves = [
  lab.lineChart(field("loss-chart"), "loss", [
    { label: "train (mini-batches)", color: TRAIN_COLOR },
    { label: "test", color: TEST_COLOR, width: 3, points: 3 },
  ]),
  lab.lineChart(
    field("accuracy-chart"),
    "accuracy",
    [
      { label: "train (mini-batches)", color: TRAIN_COLOR },
      { label: "test", color: TEST_COLOR, width: 3, points: 3 },
    ],
    1,
  ),
];

// Events can arrive by the hundred (a replay): redraw the charts at most once per frame.
let redrawPending = false;
function redraw() {
  if (redrawPending) return;
  redrawPending = true;
  requestAnimationFrame(() => {
    redrawPending = false;
    for (const chart of curves) chart.update();
  });
}

function addPoint(series, x, loss, accuracy) {
  curves[0].data.datasets[series].data.push({ x, y: loss });
  curves[1].data.datasets[series].data.push({ x, y: accuracy });
  redraw();
}

function fillSelect(select, values, first = null) {
  const options = values.map((v) => lab.el("option", { value: v }, v));
  if (first !== null) options.unshift(lab.el("option", { value: "" }, first));
  select.replaceChildren(...options);
}

function chosenModel() {
  return choices.models.find((m) => m.name === field("model").value);
}

function onModelChange() {
  const model = chosenModel();
  const { options } = model;
  field("model-description").textContent = model.description;
  const activation = field("activation");
  activation.disabled = !("activation" in options);
  fillSelect(
    activation,
    choices.activations,
    activation.disabled ? "–" : `default (${options.activation})`,
  );
  field("hidden").disabled = !("hidden" in options);
  field("hidden").value = "";
  field("hidden").placeholder = "hidden" in options ? String(options.hidden) : "–";
  showRecipe();
}

// The placeholders show the model's everyday recipe for the chosen dataset (a dataset may have
// its own: `best` trains wider layers on clothes).
function showRecipe() {
  const recipe = chosenModel().recipes[field("dataset").value];
  const optimizer = field("optimizer").value;
  fillSelect(field("optimizer"), choices.optimizers, `recipe (${recipe.optimizer})`);
  field("optimizer").value = optimizer;
  field("lr").placeholder = `recipe: ${recipe.lr}`;
  field("batch_size").placeholder = `recipe: ${recipe.batch_size}`;
  field("epochs").placeholder = `recipe: ${recipe.epochs}`;
}

// The lab's limits (set by `dnnx serve --limit`): the form shows them; the server enforces them.
function showLimits(limits) {
  field("epochs").max = limits.epochs;
  field("epochs").title = `1 to ${limits.epochs} epochs in this lab`;
  field("hidden").title =
    `up to ${limits.hidden_layers} layers of at most ${limits.hidden_size} units each, ` +
    `${limits.parameters.toLocaleString("en")} parameters in all`;
}

async function loadChoices() {
  choices = await lab.api("api/choices");
  fillSelect(field("dataset"), choices.datasets.map((d) => d.name));
  fillSelect(field("model"), choices.models.map((m) => m.name));
  showLimits(choices.limits);
  onModelChange();
}

function formData() {
  const data = {};
  for (const name of ["dataset", "model", "activation", "hidden", "optimizer", "lr", "batch_size", "epochs", "name"]) {
    const input = field(name);
    if (!input.disabled && input.value.trim() !== "") data[name] = input.value.trim();
  }
  return data;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  lab.say(message, "starting…");
  try {
    await lab.postJson("api/train", formData());
    lab.say(message, "");
  } catch (error) {
    const busy = error.status === 409 && /already running/.test(error.message);
    lab.say(message, busy ? `Not started: ${error.message}.` : error.message, "error");
  }
});

field("stop").addEventListener("click", async () => {
  try {
    await lab.postJson("api/train/stop", {});
  } catch (error) {
    lab.say(message, error.message, "error");
  }
});

function setStatus(status) {
  job.status = status;
  const badge = field("status");
  badge.textContent = status;
  badge.className = "badge " + (ACTIVE.has(status) ? "training" : status);
  field("start").disabled = ACTIVE.has(status);
  field("stop").disabled = status !== "training";
}

function resetDashboard(info) {
  job = { id: info.id, status: info.status, epochs: info.config ? info.config.epochs : 0 };
  field("loss-title").textContent = lab.lossTitle(info.config);
  for (const chart of curves) {
    for (const d of chart.data.datasets) d.data = [];
    chart.options.scales.x.max = job.epochs || undefined; // the whole run, filled as it goes
  }
  redraw();
  field("run-name").textContent = info.run || "–";
  field("epoch").textContent = "–";
  field("progress").value = 0;
  field("speed").textContent = "–";
  field("test-accuracy").textContent = "–";
  field("first-layer").replaceChildren();
  field("misclassified").replaceChildren();
  field("epoch-rows").replaceChildren();
  setStatus(info.status);
}

function onStep(step) {
  addPoint(0, step.x, step.loss, step.accuracy);
  field("epoch").textContent = `${step.epoch} / ${job.epochs}`;
  field("progress").value = step.x / Math.max(job.epochs, 1);
  field("speed").textContent = Math.round(step.examples_per_second).toLocaleString("en");
}

function onTest(test) {
  addPoint(1, test.x, test.loss, test.accuracy);
  field("test-accuracy").textContent = lab.percent(test.accuracy, 2);
}

function onEpoch(m) {
  const cells = [
    m.epoch,
    m.train_loss.toFixed(4),
    lab.percent(m.train_accuracy, 2),
    m.test_loss.toFixed(4),
    lab.percent(m.test_accuracy, 2),
    m.seconds.toFixed(1),
    Math.round(m.examples_per_second).toLocaleString("en"),
  ];
  field("epoch-rows").append(
    lab.el("tr", {}, ...cells.map((c, i) => lab.el("td", { className: i ? "num" : "" }, c))),
  );
}

function onSnapshot(snap) {
  const layer = snap.first_layer;
  if (layer) {
    field("first-layer-title").textContent =
      layer.kind === "filters" ? `first-layer filters (${layer.layer})` : `weights (${layer.layer})`;
    field("first-layer-note").textContent =
      layer.kind === "filters"
        ? "each convolution filter of the first layer (red positive, blue negative)"
        : "one image per output: red pixels are evidence for it, blue against";
    lab.showPictures(field("first-layer"), layer.images, layer.titles);
  }
  field("misclassified-title").textContent =
    `misclassified test digits (${snap.wrong.toLocaleString("en")} wrong, first ${snap.misclassified.length} shown)`;
  lab.showPictures(
    field("misclassified"),
    snap.misclassified.map((m) => m.image),
    snap.misclassified.map((m) => {
      const caption = lab.el("span", {}, "pred ", lab.el("b", {}, m.predicted), ` (${m.true})`);
      return caption;
    }),
  );
}

function onDone(done) {
  setStatus(done.status);
  if (done.status === "finished") {
    const acc = done.summary ? lab.percent(done.summary.test_accuracy, 2) : "";
    lab.say(message, `Finished: test accuracy ${acc}. The run is on the Runs page.`, "ok");
  } else if (done.status === "stopped") {
    lab.say(message, "Stopped. Continue it with: dnnx train --resume <runs>/" + field("run-name").textContent);
  } else if (done.status === "failed") {
    lab.say(message, `Training failed: ${done.error}`, "error");
  }
}

function follow() {
  const source = new EventSource("api/train/events");
  const on = (kind, handler) =>
    source.addEventListener(kind, (event) => handler(JSON.parse(event.data)));
  on("idle", (info) => setStatus(info.status));
  on("job", resetDashboard);
  on("status", (s) => setStatus(s.status));
  on("step", onStep);
  on("test", onTest);
  on("epoch", onEpoch);
  on("snapshot", onSnapshot);
  on("done", onDone);
}

field("model").addEventListener("change", onModelChange);
field("dataset").addEventListener("change", showRecipe);
loadChoices()
  .then(follow)
  .catch((error) => lab.say(message, error.message, "error"));
