// Inside a CNN: a drawing (or a photo, or a test image) through every layer of a trained model.
// The server runs the model once per drawing and sends every layer's output in one answer
// (POST /api/runs/NAME/activations); this page draws each layer on a canvas and, for a clicked
// value, redoes the arithmetic that produced it (inside-sums.js) from the numbers it received.
// One request is in flight at a time: strokes drawn meanwhile are sent when the answer arrives.
"use strict";

const inside = {
  run: "", // the chosen run folder
  model: null, // its filters and batch-norm statistics (GET /api/runs/NAME/layers), decoded
  source: { kind: "drawing" }, // what the layers show: the drawing, a photo or a test image
  answer: null, // the last answer, every step's values decoded to Float32Array
  rows: [], // one view per step: its section, canvas and statistics line
  signature: "", // the steps' names and shapes the rows were built for
  selected: null, // the clicked value: { step, map, i, j }
  busy: false,
  again: false,
  timing: { strokeEnd: 0, lastMs: null, serverMs: null }, // stroke end -> every layer drawn
  testCount: 10000, // test images of the run's dataset (known after the first one shown)
};
const runSelect = document.getElementById("run");
const message = document.getElementById("message");

// The pad reports each change of the drawing; the end of a stroke starts the speed clock.
insidePad.onChange = (ended) => {
  inside.source = { kind: "drawing" };
  if (ended) inside.timing.strokeEnd = performance.now();
  schedule();
};

// -- asking the server ----------------------------------------------------------------------------
function schedule() {
  const blank = inside.source.kind === "drawing" && !insidePad.hasInk;
  if (!inside.run || !inside.model || blank) return;
  if (inside.busy) {
    inside.again = true; // only the newest drawing is sent once the answer arrives
    return;
  }
  send();
}

async function send() {
  inside.busy = true;
  inside.again = false;
  const run = inside.run;
  try {
    const sent = performance.now();
    const answer = await ask(run, inside.source);
    // Stale answers are not drawn: a run changed meanwhile, or the stroke ended after this
    // drawing was sent (its final version goes next).
    const stale = inside.again && inside.timing.strokeEnd > sent;
    if (run === inside.run && !stale) show(answer, sent);
  } catch (error) {
    lab.say(message, error.message, "error");
  } finally {
    inside.busy = false;
    if (inside.again) schedule();
  }
}

async function ask(run, source) {
  if (source.kind === "test") return lab.api(lab.runUrl(run, `/activations?test=${source.index}`));
  const body = source.kind === "photo" ? source.file : insidePad.asPgm();
  const headers = { "Content-Type": body.type || "application/octet-stream" };
  return lab.api(lab.runUrl(run, "/activations"), { method: "POST", headers, body });
}

// Each step's values, decoded; a step marked `alias` (flatten, dropout) repeats its input's.
function decodeSteps(answer) {
  answer.steps.forEach((step, k) => {
    step.values = step.alias ? answer.steps[k - 1].values : insideSums.decode(step.data);
  });
  answer.pixels = insideSums.decode(answer.pixels);
  return answer;
}

// -- showing an answer --------------------------------------------------------------------------
function show(answer, sent) {
  inside.answer = decodeSteps(answer);
  if (answer.source.kind === "test") inside.testCount = answer.source.count;
  const signature = answer.steps.map((s) => `${s.name}:${s.shape}`).join("|");
  if (signature !== inside.signature) buildRows(answer.steps, signature);
  drawAll();
  showPrediction(answer);
  if (message.classList.contains("error")) lab.say(message, "");
  requestAnimationFrame(() => noteTiming(sent, answer.server_ms)); // after the frame is painted
}

function noteTiming(sent, serverMs) {
  const t = inside.timing;
  t.serverMs = serverMs;
  if (t.strokeEnd && sent >= t.strokeEnd) {
    t.lastMs = performance.now() - t.strokeEnd;
    t.strokeEnd = 0;
  }
  const drawn =
    t.lastMs === null ? "" : ` · end of stroke to every layer drawn: ${t.lastMs.toFixed(0)} ms`;
  document.getElementById("timing").textContent = `server: ${serverMs.toFixed(1)} ms${drawn}`;
}

function showPrediction(answer) {
  const digit = document.getElementById("digit");
  digit.textContent = answer.label;
  digit.classList.toggle("long", answer.label.length > 2);
  const best = answer.probabilities[answer.digit];
  document.getElementById("confidence").textContent = `${lab.percent(best)} sure`;
  const source = answer.source;
  let text = "your drawing";
  if (source.kind === "test")
    text = `test image ${source.index} of ${source.count}, labelled ${source.label}`;
  else if (inside.source.kind === "photo") text = `the photo ${inside.source.file.name}`;
  document.getElementById("source").textContent = text;
}

// One section per step: a title, its statistics, and a canvas (or a table for logits/softmax).
function buildRows(steps, signature) {
  inside.signature = signature;
  inside.selected = null;
  document.getElementById("detail").classList.add("hidden");
  inside.rows = steps.map((step, k) => insideRows.build(step, k, inside.model));
  document.getElementById("layers").replaceChildren(...inside.rows.map((r) => r.section));
  inside.rows.forEach((row, k) => {
    if (row.canvas) row.canvas.addEventListener("click", (event) => select(k, event));
    if (row.table) row.table.addEventListener("click", (event) => selectBar(k, event));
  });
}

// Every step's picture, then the clicked value's frame and detail (redone with the new numbers).
function drawAll() {
  inside.answer.steps.forEach((step, k) => {
    const row = inside.rows[k];
    row.stats.textContent = insideRows.stats(step);
    if (row.table) insideRows.bars(row, step, inside.answer);
    else if (row.canvas) insideRows.draw(row, step, inside.model);
  });
  if (inside.selected) showDetail();
}

// -- a clicked value and the arithmetic behind it -------------------------------------------------
function select(k, event) {
  const picked = insideView.pick(inside.rows[k].canvas, event);
  if (!picked) return;
  const [map, i, j] = picked;
  inside.selected = { step: k, map, i, j };
  drawAll();
}

function selectBar(k, event) {
  const line = event.target.closest("tr");
  if (!line) return;
  inside.selected = { step: k, map: line.sectionRowIndex, i: 0, j: 0 };
  drawAll();
}

function showDetail() {
  const { steps } = inside.answer;
  const k = inside.selected.step;
  const detail = insideDetail.explain(steps, k, inside.selected, inside.model, inside.answer);
  document.getElementById("detail-title").textContent = detail.title;
  document.getElementById("detail-body").replaceChildren(...detail.nodes);
  const panel = document.getElementById("detail");
  panel.classList.remove("hidden");
  if (panel.previousElementSibling !== inside.rows[k].section) inside.rows[k].section.after(panel);
  if (inside.rows[k].canvas) insideRows.outline(inside.rows[k], inside.selected);
  if (detail.window && inside.rows[k - 1]) {
    insideRows.outlineWindow(inside.rows[k - 1], detail.window); // the window it came from
  }
}

function closeDetail() {
  inside.selected = null;
  document.getElementById("detail").classList.add("hidden");
  if (inside.answer) drawAll();
}

// -- the run picker, the test images, the buttons ---------------------------------------------
async function chooseRun() {
  inside.run = runSelect.value;
  inside.model = null;
  closeDetail();
  inside.answer = null; // the layers of another model are gone until the first answer
  inside.signature = "";
  document.getElementById("layers").replaceChildren();
  if (!inside.run) return;
  const url = new URL(location.href);
  url.searchParams.set("run", inside.run);
  history.replaceState(null, "", url);
  const model = await lab.api(lab.runUrl(inside.run, "/layers"));
  if (model.run !== runSelect.value) return; // another run was chosen meanwhile
  inside.model = insideRows.decodeParameters(model);
  document.getElementById("not-conv").classList.toggle("hidden", model.convolutional);
  document.getElementById("norm").textContent = `mean ${model.mean} and std ${model.std}`;
  schedule();
}

async function loadRuns() {
  const runs = (await lab.api("api/runs")).filter((r) => r.has_weights);
  const wanted = new URLSearchParams(location.search).get("run");
  const convolutional = runs.find((r) => ["cnn", "lenet5", "best"].includes(r.model));
  const chosen = runs.some((r) => r.name === wanted)
    ? wanted
    : (convolutional || runs[0] || {}).name;
  const option = (r) =>
    lab.el(
      "option",
      { value: r.name, selected: r.name === chosen },
      `${r.name} (${r.model}, ${lab.percent(r.test_accuracy)})`,
    );
  runSelect.replaceChildren(...runs.map(option));
  if (!runs.length) {
    lab.say(message, "No trained model yet: train one on the Train page, or with `dnnx train`.");
  }
}

function showTest(index) {
  const field = document.getElementById("test-index");
  field.value = index;
  inside.source = { kind: "test", index: Number(index) };
  schedule();
}

runSelect.addEventListener("change", () =>
  chooseRun().catch((e) => lab.say(message, e.message, "error")),
);
document.getElementById("clear").addEventListener("click", () => {
  insidePad.clear();
  inside.source = { kind: "drawing" };
});
document.getElementById("photo").addEventListener("change", (event) => {
  if (!event.target.files[0]) return;
  inside.source = { kind: "photo", file: event.target.files[0] };
  schedule();
});
document
  .getElementById("show-test")
  .addEventListener("click", () => showTest(document.getElementById("test-index").value));
document
  .getElementById("random-test")
  .addEventListener("click", () => showTest(Math.floor(Math.random() * inside.testCount)));
document.getElementById("detail-close").addEventListener("click", closeDetail);

async function start() {
  insidePad.clear();
  await insidePad.takeDrawingFromDrawPage();
  await loadRuns();
  // Until the learner draws, every layer shows a test image (?test=N, or the first one).
  const test = Number(new URLSearchParams(location.search).get("test") || 0);
  if (!insidePad.hasInk) inside.source = { kind: "test", index: test };
  document.getElementById("test-index").value = test;
  await chooseRun();
}

start().catch((error) => lab.say(message, error.message, "error"));
window.inside = inside;
