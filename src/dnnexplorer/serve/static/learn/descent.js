// The page /learn/descent, "Gradient descent you can steer": the controls, the play loop and
// the numbers. The houses and the facts of their loss surface (least squares, Hessian, λ_max)
// come from the server once (GET /api/learn/regression?seed=N, the Python lessons' own
// numbers); every step then runs here, in descent-walk.js: a step is a few hundred
// multiplications, far below a millisecond. descent-draw.js draws the map and the chart.
// The page's state is descent.page (try descent.page.walk in the browser's console).
"use strict";

const RATE_RANGE = [1e-3, 1]; // the learning-rate slider's ends (log scale)
const SLIDER_STEPS = 1000;
const MAX_UPDATES = 20000; // Play stops here: constant-rate stochastic descent never settles
const $ = (id) => document.getElementById(id);

const page = {
  data: null, // the server's answer: houses, least_squares, hessian, eigenvalues, ...
  map: null,
  chart: null,
  start: null, // (w, b) where every walk starts
  rate: 0.1, // the learning rate η
  mode: "batch", // "batch", "stochastic" or "mini-batch"
  batchSize: 10, // houses per update in mini-batch mode
  walk: null, // the current walk: points, losses, updates, divergedAt
  orders: [], // the shuffled order of the houses of each epoch begun, for checking
  random: null, // the seeded generator drawing those shuffles
  arrivedAt: null, // the update after which (w, b) came within the lesson's tolerance
  playing: false,
};
descent.page = page;

async function init() {
  const seed = new URLSearchParams(location.search).get("seed") || "0";
  try {
    page.data = await lab.api(`api/learn/regression?seed=${encodeURIComponent(seed)}`);
  } catch (e) {
    lab.say($("message"), `Could not load the houses: ${e.message}`, "error");
    return;
  }
  page.map = descentDraw.createMap($("map"), page.data);
  page.chart = descentDraw.lossChart($("loss-chart"));
  page.start = page.data.start.slice();
  showFacts();
  addLessonRates();
  placeCriticalMark();
  wireControls();
  setRate(page.rate);
}

// η for a fraction of the critical rate, computed as the lesson does: f·2/λ_max.
function lessonRate(fraction) {
  return (fraction * 2.0) / page.data.eigenvalues[1];
}

// The slider's position (0..SLIDER_STEPS) for η and back: a log scale.
function sliderPosition(rate) {
  const [low, high] = RATE_RANGE;
  return (SLIDER_STEPS * Math.log(rate / low)) / Math.log(high / low);
}

function sliderRate(position) {
  const [low, high] = RATE_RANGE;
  return low * Math.pow(high / low, position / SLIDER_STEPS);
}

// A new learning rate starts a new walk from the same start.
function setRate(rate, fromSlider = false) {
  page.rate = rate;
  if (!fromSlider) $("rate-slider").value = String(Math.round(sliderPosition(rate)));
  $("rate").value = String(Number(rate.toPrecision(6)));
  const critical = page.data.critical_learning_rate;
  const above = rate >= critical;
  $("rate-says").textContent =
    `= ${(rate / critical).toFixed(2)} × 2/λ_max` +
    (above ? ": above the critical rate, batch descent diverges" : "");
  $("rate-says").className = above ? "stat too-large" : "stat";
  newWalk();
}

// The critical rate 2/λ_max marked under the slider (16 px: about the slider's thumb).
function placeCriticalMark() {
  const f = sliderPosition(page.data.critical_learning_rate) / SLIDER_STEPS;
  $("critical-mark").style.left = `calc(${100 * f}% + ${(0.5 - f) * 16}px)`;
}

// One button per rate of the lesson (too small, right, too large, diverging).
function addLessonRates() {
  const buttons = Object.entries(page.data.rates).map(([name, fraction]) => {
    const button = lab.el("button", { type: "button", id: `rate-${name.replace(" ", "-")}` });
    button.textContent = `${name} (${fraction}×)`;
    button.addEventListener("click", () => setRate(lessonRate(fraction)));
    return button;
  });
  const label = lab.el("span", { className: "stat" }, "the lesson's:");
  $("lesson-rates").replaceChildren(label, ...buttons);
}

// The surface's numbers, as the lesson prints them.
function showFacts() {
  const { least_squares: best, hessian: h, eigenvalues: [low, high], houses } = page.data;
  const steepest = Math.max(...houses.x.map((x) => 2 * (x * x + 1)));
  const f = (v, digits = 4) => v.toFixed(digits);
  $("surface-facts").replaceChildren(
    `For these ${houses.x.length} houses (seed ${page.data.seed}), least squares is w* = `,
    lab.el("b", { id: "best" }, `${f(best.w)}, b* = ${f(best.b)}`),
    ` with J* = ${f(best.loss)}. J is a bowl, exactly quadratic: its Hessian H = 2·[[mean x², ` +
      `mean x], [mean x, 1]] = [[${f(h[0][0], 3)}, ${f(h[0][1], 3)}], [${f(h[1][0], 3)}, ` +
      `${f(h[1][1], 3)}]] has eigenvalues λ_min = ${f(low)} and λ_max = ${f(high)}, ` +
      `${(high / low).toFixed(0)} times more curved across the valley than along it. A batch ` +
      "step multiplies the distance to the bottom along each eigenvector by (1 − η·λ), so the " +
      "walk arrives only if η < 2/λ_max = ",
    lab.el("b", { id: "critical" }, f(page.data.critical_learning_rate)),
    `, the critical rate. One house alone is curved up to 2·(x² + 1) = ${f(steepest, 2)}: a ` +
      `stochastic step with η above ${f(2 / steepest)} overshoots that house's own bowl.`,
  );
}

function wireControls() {
  $("rate-slider").addEventListener("input", (e) => setRate(sliderRate(+e.target.value), true));
  $("rate").addEventListener("change", (e) => {
    const rate = Number(e.target.value);
    if (e.target.value.trim() !== "" && Number.isFinite(rate) && rate > 0) return setRate(rate);
    e.target.value = String(Number(page.rate.toPrecision(6))); // keep the rate in use
    lab.say($("message"), "The learning rate must be a number above 0.", "error");
  });
  for (const radio of document.querySelectorAll("input[name=mode]")) {
    radio.addEventListener("change", () => {
      page.mode = radio.value;
      $("batch-size").disabled = page.mode !== "mini-batch";
      newWalk();
    });
  }
  $("batch-size").disabled = true;
  $("batch-size").addEventListener("change", (e) => {
    const size = Math.round(Number(e.target.value));
    const n = page.data.houses.x.length;
    page.batchSize = Math.min(Math.max(Number.isFinite(size) ? size : 10, 1), n);
    e.target.value = String(page.batchSize);
    newWalk();
  });
  $("step").addEventListener("click", () => advance(1));
  $("play").addEventListener("click", () => (page.playing ? pause() : play()));
  $("reset").addEventListener("click", () => {
    pause();
    newWalk();
  });
  $("map").addEventListener("click", chooseStart);
  $("map").addEventListener("mousemove", hover);
}

// The (w, b) under the mouse, or null outside the map's plot area.
function mapPoint(event) {
  const rect = $("map").getBoundingClientRect();
  const px = ((event.clientX - rect.left) * page.map.width) / rect.width;
  const py = ((event.clientY - rect.top) * page.map.height) / rect.height;
  return page.map.inside(px, py) ? page.map.fromPixel(px, py) : null;
}

function chooseStart(event) {
  const point = mapPoint(event);
  if (point === null) return;
  page.start = point;
  newWalk();
}

function hover(event) {
  const point = mapPoint(event);
  const J = point && descent.loss(page.data.houses, point[0], point[1]);
  const [w, b] = point || [0, 0];
  $("hover").textContent = point
    ? `under the mouse: w = ${w.toFixed(3)}, b = ${b.toFixed(3)}, J = ${J.toFixed(4)}`
    : "";
}

// Houses per update, and updates per epoch, in the chosen kind of descent.
function batchSize() {
  const n = page.data.houses.x.length;
  return { batch: n, stochastic: 1, "mini-batch": page.batchSize }[page.mode];
}

function updatesPerEpoch() {
  return Math.ceil(page.data.houses.x.length / batchSize());
}

// A fresh walk from page.start with the current rate and kind of descent (and fresh shuffles).
function newWalk() {
  page.walk = descent.newWalk(page.data.houses, page.start);
  page.orders = [];
  page.random = descent.seeded(page.data.seed);
  page.arrivedAt = null;
  descentDraw.clearChart(page.chart);
  show();
}

// The houses of the next update: every one, in order (batch descent), or the next mini-batch of
// this epoch's shuffle; an epoch's first update draws a new shuffle.
function nextBatch() {
  if (page.mode === "batch") return null;
  const k = page.walk.updates % updatesPerEpoch();
  if (k === 0) page.orders.push(descent.shuffle(page.data.houses.x.length, page.random));
  return descent.batchesOf(page.orders[page.orders.length - 1], batchSize())[k];
}

function canStep() {
  return page.walk.divergedAt === null && page.walk.updates < MAX_UPDATES;
}

// `count` updates (fewer if the walk diverges), then the page shows where the walk is.
function advance(count) {
  const { houses, least_squares: best, tolerance, diverged } = page.data;
  for (let k = 0; k < count && canStep(); k++) {
    descent.step(page.walk, houses, page.rate, nextBatch(), diverged);
    const last = page.walk.points[page.walk.points.length - 1];
    if (page.arrivedAt === null && descent.distance(last, best) < tolerance) {
      page.arrivedAt = page.walk.updates;
    }
  }
  show();
}

// Play: `speed` updates per frame, until the walk arrives, diverges or is paused.
function play() {
  page.playing = true;
  $("play").textContent = "Pause";
  const frame = () => {
    if (!page.playing) return;
    advance(Number($("speed").value));
    if (!canStep() || page.arrivedAt !== null) pause();
    else requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}

function pause() {
  page.playing = false;
  $("play").textContent = "Play";
}

function show() {
  descentDraw.drawMap(page.map, page.walk, page.start);
  showNumbers();
  descentDraw.updateChart(page.chart, page.walk.losses, page.data.least_squares.loss);
  $("step").disabled = $("play").disabled = !canStep();
}

// Where the walk is, in numbers; huge ones (a walk running away) in scientific notation.
function showNumbers() {
  const { walk, data } = page;
  const num = (v) => (Math.abs(v) >= 1e4 ? v.toExponential(3) : v.toFixed(4));
  const [w, b] = walk.points[walk.points.length - 1];
  $("now").textContent = `(${num(w)}, ${num(b)})`;
  $("loss").textContent = num(walk.losses[walk.losses.length - 1]);
  $("distance").textContent = num(descent.distance([w, b], data.least_squares));
  $("updates").textContent = String(walk.updates);
  const each = updatesPerEpoch();
  const updates = `${each} update${each > 1 ? "s" : ""} each`;
  $("epochs").textContent = `${(walk.updates / each).toFixed(2)} (${updates})`;
  lab.say($("message"), ...verdict());
}

// What the walk has done so far, in words, and the message's kind.
function verdict() {
  const { walk, data } = page;
  if (walk.divergedAt !== null) {
    const says = `diverged at step ${walk.divergedAt}: J passed ${data.diverged} times its value`;
    return [`${says} at the start, and the walk stopped. Reset, or pick a smaller η.`, "error"];
  }
  if (page.arrivedAt !== null) {
    const epochs = (page.arrivedAt / updatesPerEpoch()).toFixed(2);
    const says = `within ${data.tolerance} of least squares after ${page.arrivedAt} updates`;
    return [`${says} (${epochs} epochs).`, "ok"];
  }
  if (walk.updates >= MAX_UPDATES) return [`stopped after ${MAX_UPDATES} updates.`, ""];
  if (walk.updates === 0) return ["Click the map to choose a start, then Step or Play.", ""];
  return [`walking: ${walk.updates} update${walk.updates > 1 ? "s" : ""} so far.`, ""];
}

document.addEventListener("DOMContentLoaded", init);
