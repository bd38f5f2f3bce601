// The 2-D playground, part 4 of 4: the page. It reads the settings, runs training steps inside
// requestAnimationFrame (a few per frame, as "steps per frame" says) and redraws after each
// frame: the decision boundary, every hidden unit, the loss curves and the numbers.
// Everything runs here in the browser; the server only sent these files.
"use strict";

(() => {
  const pg = window.playground;
  const field = (id) => document.getElementById(id);
  // Changing one of these starts over with new points and a new network (the same seed gives
  // the same start, so two runs that differ in one setting can be compared).
  const DATA_FIELDS = ["dataset", "classes", "points", "noise", "seed"];
  const NETWORK_FIELDS = ["layers", "units", "activation", "pieces", "loss"];
  // These take effect at the next step, so you can change them while it learns.
  const LIVE = ["lr", "batch"];
  const DIVERGED_LOSS = 1e3; // a loss of 1000: the right class gets probability e^-1000
  const CURVE_POINTS = 600; // beyond this the curves keep every other point
  const CLASS_NAMES = { xor: ["XOR false", "XOR true"], alarm: ["quiet", "alarm"] };

  // The page's state, open to the browser console and to the tests as playground.page.
  const page = {
    trainer: null,
    playing: false,
    diverged: null,
    metrics: null,
    pending: 0, // the requested animation frame, if any
    frames: 0, // frames drawn while playing
    frameMs: [], // JavaScript time of the last frames (train + evaluate + draw)
    stride: 1,
    recorded: 0,
  };
  pg.page = page;

  const chart = lab.lineChart(field("loss-chart"), "loss", [
    { label: "training loss", color: "#2563eb" },
    { label: "test loss", color: "#f59e0b", dash: [6, 3] },
  ]);

  // A number typed in a field; NaN when empty (Number("") would say 0).
  function numberIn(id) {
    const text = field(id).value.trim();
    return text === "" ? NaN : Number(text);
  }

  // The settings object, with the same names as PlaygroundConfig in playground.py.
  function readSettings() {
    const layers = numberIn("layers");
    const units = numberIn("units");
    const hidden =
      Number.isInteger(layers) && layers >= 0 ? Array(Math.min(layers, 9)).fill(units) : [NaN];
    return {
      dataset: field("dataset").value,
      classes: Number(field("classes").value),
      points: numberIn("points"),
      noise: numberIn("noise"),
      hidden,
      activation: field("activation").value,
      maxout_pieces: numberIn("pieces"),
      learning_rate: numberIn("lr"),
      batch_size: numberIn("batch"),
      loss: field("loss").value,
      seed: numberIn("seed"),
    };
  }

  // Controls that only make sense for some settings are switched off for the others.
  function syncControls() {
    const dataset = field("dataset").value;
    const twoOnly = pg.TWO_CLASS_ONLY.includes(dataset);
    if (twoOnly) field("classes").value = "2";
    field("classes").disabled = twoOnly;
    field("noise").disabled = dataset === "alarm"; // pixels are whole numbers: no noise
    field("pieces").disabled = field("activation").value !== "maxout";
    field("batch-kind").textContent = batchKind(numberIn("batch"), numberIn("points"));
  }

  // 1 example per step is SGD, all of them batch gradient descent, anything between mini-batch.
  function batchKind(batch, points) {
    if (batch === 1) return "= SGD";
    if (batch === points) return "= full batch";
    return batch > 1 && batch < points ? "= mini-batch" : "";
  }

  function showProblems(problems) {
    lab.say(
      field("problems"),
      problems.length ? "Cannot train: " + problems.join("; ") + "." : "",
      problems.length ? "error" : "",
    );
    field("play").disabled = field("step").disabled = problems.length > 0 || page.diverged !== null;
  }

  // New points and a new network from the settings; clears the curves.
  function restart() {
    pause();
    syncControls();
    const settings = readSettings();
    const problems = pg.problems(settings);
    page.trainer = problems.length ? null : pg.createTrainer(settings);
    page.diverged = null;
    page.stride = 1;
    page.recorded = 0;
    chart.data.datasets.forEach((d) => (d.data = []));
    lab.say(field("status"), "");
    showProblems(problems);
    if (!page.trainer) return;
    const net = page.trainer.net;
    field("params").textContent = net.layers.reduce((n, l) => n + l.W.length + l.b.length, 0);
    showLegend(settings);
    record();
    draw();
  }

  // Learning rate and batch size: the running network keeps its weights.
  function updateLive() {
    syncControls();
    const settings = readSettings();
    const problems = pg.problems(settings);
    if (problems.length) pause();
    else if (page.trainer)
      Object.assign(page.trainer.settings, {
        learning_rate: settings.learning_rate,
        batch_size: settings.batch_size,
      });
    showProblems(problems);
  }

  // Losses and accuracies on all training and test points, and one more point of each curve.
  function record() {
    const { net, data, settings, seen } = page.trainer;
    page.metrics = {
      train: pg.evaluate(net, data.train, settings.loss),
      test: pg.evaluate(net, data.test, settings.loss),
    };
    if (page.recorded++ % page.stride !== 0) return;
    const epoch = seen / settings.points;
    chart.data.datasets[0].data.push({ x: epoch, y: page.metrics.train.loss });
    chart.data.datasets[1].data.push({ x: epoch, y: page.metrics.test.loss });
    if (chart.data.datasets[0].data.length > CURVE_POINTS) {
      chart.data.datasets.forEach((d) => (d.data = d.data.filter((_, i) => i % 2 === 0)));
      page.stride *= 2;
    }
  }

  // `steps` SGD steps; stops at the first sign of divergence (NaN, infinity, a huge loss).
  function advance(steps) {
    const { trainer } = page;
    for (let i = 0; i < steps; i++) {
      const loss = pg.trainStep(trainer);
      if (!Number.isFinite(loss) || loss > DIVERGED_LOSS || !pg.isFiniteNetwork(trainer.net)) {
        diverge(loss);
        return;
      }
    }
    record();
  }

  function diverge(loss) {
    const { trainer } = page;
    page.diverged = { step: trainer.steps, loss };
    pause();
    const what = Number.isFinite(loss)
      ? `the loss jumped to ${loss.toExponential(2)}`
      : "the loss became infinite or NaN";
    lab.say(
      field("status"),
      `Diverged at step ${trainer.steps}: ${what}. ` +
        `With learning rate ${trainer.settings.learning_rate} each step ` +
        "overshoots the valley further. Lower the learning rate and press reset.",
      "error",
    );
    for (const id of ["train-loss", "test-loss", "train-acc", "test-acc"])
      field(id).textContent = "diverged";
    field("steps").textContent = trainer.steps;
    showProblems([]);
  }

  const formatLoss = (v) => (Math.abs(v) < 1000 ? v.toFixed(3) : v.toExponential(2));

  // Redraw everything from the current network (never called on a diverged one).
  function draw() {
    const { net, data, settings, steps, seen } = page.trainer;
    const view = pg.view(settings.dataset);
    const grid = pg.probeGrid(net, view);
    pg.drawBoundary(field("boundary"), grid, data, view, field("show-test").checked);
    pg.drawUnits(field("unit-pictures"), grid, net);
    const { train, test } = page.metrics;
    field("train-loss").textContent = formatLoss(train.loss);
    field("test-loss").textContent = formatLoss(test.loss);
    field("train-acc").textContent = lab.percent(train.accuracy);
    field("test-acc").textContent = lab.percent(test.accuracy);
    field("steps").textContent = steps;
    field("epoch").textContent = (seen / settings.points).toFixed(2);
    chart.update("none");
  }

  function showLegend(settings) {
    const names =
      CLASS_NAMES[settings.dataset] ||
      Array.from({ length: settings.classes }, (_, k) => `class ${k}`);
    field("legend").replaceChildren(
      ...names.map((name, k) => {
        const swatch = lab.el("span", { className: "pg-swatch" });
        swatch.style.background = `rgb(${pg.CLASS_COLORS[k].join(",")})`;
        return lab.el("span", { className: "pg-legend-item" }, swatch, name);
      }),
    );
    const { min, max } = pg.view(settings.dataset);
    field("axes").textContent =
      settings.dataset === "alarm"
        ? `x1 and x2 are two pixels, 0 (black) to 1 (white); shown from ${min} to ${max}.`
        : `x1 runs from ${min} (left) to ${max} (right), x2 from ${min} (bottom) to ${max} (top).`;
  }

  // One animation frame of play: train, then draw what the network has become.
  function frame() {
    page.pending = 0;
    if (!page.playing) return;
    const start = performance.now();
    advance(Number(field("speed").value));
    if (!page.diverged) draw();
    page.frames += 1;
    page.frameMs.push(performance.now() - start);
    if (page.frameMs.length > 300) page.frameMs.shift();
    if (page.playing) page.pending = requestAnimationFrame(frame);
  }

  function play() {
    if (!page.trainer || page.diverged) return;
    page.playing = true;
    field("play").textContent = "pause";
    if (!page.pending) page.pending = requestAnimationFrame(frame); // one chain of frames at most
  }

  function pause() {
    page.playing = false;
    field("play").textContent = "play";
  }

  function step() {
    if (!page.trainer || page.diverged) return;
    pause();
    advance(1);
    if (!page.diverged) draw();
  }

  function setBatch(value) {
    field("batch").value = value;
    updateLive();
  }

  for (const id of [...DATA_FIELDS, ...NETWORK_FIELDS])
    field(id).addEventListener("change", restart);
  for (const id of LIVE) field(id).addEventListener("input", updateLive);
  field("play").addEventListener("click", () => (page.playing ? pause() : play()));
  field("step").addEventListener("click", step);
  field("reset").addEventListener("click", restart);
  field("batch-sgd").addEventListener("click", () => setBatch(1));
  field("batch-full").addEventListener("click", () => setBatch(numberIn("points")));
  field("show-test").addEventListener("change", () => page.trainer && !page.diverged && draw());
  Object.assign(page, { restart, play, pause, step });
  restart();
})();
