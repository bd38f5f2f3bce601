// The 2-D playground, part 1 of 4: the random numbers, the points, the order of the
// mini-batches and the settings' limits.
//
// Everything random on the page (the points, the initial weights, the order of the mini-batches)
// comes from mulberry32, a tiny generator whose integer steps JavaScript and Python compute bit
// for bit alike. src/dnnexplorer/playground.py has the same functions with the same names, so
// the same seed gives the same points and the same network in PyTorch.
"use strict";

window.playground = window.playground || {};

(() => {
  const DATASETS = ["xor", "circles", "spirals", "blobs", "alarm"];
  const TWO_CLASS_ONLY = ["xor", "alarm"]; // their rule has exactly two answers
  const ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "maxout"];
  const LOSSES = ["cross-entropy", "squared error"];
  const LIMITS = { classes: 4, points: 1000, layers: 4, units: 8, pieces: 5 };
  const ALARM_MARGIN = 26; // |x1 + x2 - 255| >= 26: mean brightness more than 0.05 from half

  // mulberry32 (Tommy Ettinger): each call returns a uniform float k / 2^32 in [0, 1).
  function mulberry32(seed) {
    let state = seed >>> 0;
    const next = () => {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    // A standard normal number by Box-Muller: two uniforms, the sine half thrown away.
    next.gaussian = () => {
      const u1 = next();
      const u2 = next();
      return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    };
    return next;
  }

  // One point of class `label` before noise; each branch draws a fixed count of numbers.
  function cleanPoint(dataset, label, classes, rng) {
    if (dataset === "xor") {
      // class 1 (XOR true) where exactly one of x1, x2 is positive
      const sign = rng() < 0.5 ? 1 : -1;
      const a = 0.1 + 0.9 * rng();
      const b = 0.1 + 0.9 * rng();
      return [sign * a, (label === 0 ? sign : -sign) * b];
    }
    if (dataset === "circles") {
      // class c on the c-th ring around the centre
      const r = (label + 0.1 + 0.8 * rng()) / classes;
      const angle = 2 * Math.PI * rng();
      return [r * Math.cos(angle), r * Math.sin(angle)];
    }
    if (dataset === "spirals") {
      // class c on an arm turned by c/classes of a full turn
      const t = rng();
      const r = 0.1 + 0.9 * t;
      const angle = 2 * Math.PI * (label / classes + 1.25 * t);
      return [r * Math.cos(angle), r * Math.sin(angle)];
    }
    const centre = (2 * Math.PI * label) / classes + Math.PI / 4; // blobs: centres on a circle
    const x1 = 0.5 * Math.cos(centre) + 0.15 * rng.gaussian();
    const x2 = 0.5 * Math.sin(centre) + 0.15 * rng.gaussian();
    return [x1, x2];
  }

  // The perceptron lesson's alarm, on two pixels instead of three: pixels 0..255 scaled to 0..1,
  // alarm (1) when their mean is above 127.5; pairs within 0.05 of that line are drawn again.
  function alarmPoint(rng) {
    for (;;) {
      const p1 = Math.floor(256 * rng());
      const p2 = Math.floor(256 * rng());
      if (Math.abs(p1 + p2 - 255) >= ALARM_MARGIN)
        return [p1 / 255, p2 / 255, p1 + p2 > 255 ? 1 : 0];
    }
  }

  // Training points then test points (half as many): {train: {x, y}, test: {x, y}}, x a list of
  // [x1, x2], y the class numbers. Point i has class i % classes (alarm: the rule decides).
  function makePoints(settings) {
    const rng = mulberry32(settings.seed);
    const total = settings.points + Math.floor(settings.points / 2);
    const xs = [];
    const ys = [];
    for (let i = 0; i < total; i++) {
      if (settings.dataset === "alarm") {
        const [x1, x2, label] = alarmPoint(rng);
        xs.push([x1, x2]);
        ys.push(label);
        continue;
      }
      const label = i % settings.classes;
      const [x1, x2] = cleanPoint(settings.dataset, label, settings.classes, rng);
      // noise is drawn even when it is 0, so the slider moves the same points more or less
      const n1 = settings.noise * rng.gaussian();
      const n2 = settings.noise * rng.gaussian();
      xs.push([x1 + n1, x2 + n2]);
      ys.push(label);
    }
    const n = settings.points;
    return {
      train: { x: xs.slice(0, n), y: ys.slice(0, n) },
      test: { x: xs.slice(n), y: ys.slice(n) },
    };
  }

  // Endless mini-batches: each epoch a Fisher-Yates shuffle of 0..n-1 (mulberry32), then slices.
  function miniBatches(n, seed) {
    const rng = mulberry32(seed);
    let order = [];
    let position = n;
    return (batchSize) => {
      if (position >= n) {
        order = Array.from({ length: n }, (_, i) => i);
        for (let i = n - 1; i > 0; i--) {
          const j = Math.floor(rng() * (i + 1));
          [order[i], order[j]] = [order[j], order[i]];
        }
        position = 0;
      }
      const batch = order.slice(position, position + batchSize);
      position += batchSize;
      return batch;
    };
  }

  // The part of the plane the pictures show: the alarm's pixels live in 0..1, the others near 0.
  function view(dataset) {
    return dataset === "alarm" ? { min: -0.2, max: 1.2 } : { min: -1.5, max: 1.5 };
  }

  const isInt = (v, lo, hi) => Number.isInteger(v) && v >= lo && v <= hi;

  // What is wrong with `settings` (a list of sentences; empty when the page can train).
  // The same limits as check_config in playground.py.
  function problems(s) {
    const out = [];
    if (!DATASETS.includes(s.dataset)) out.push(`dataset must be one of ${DATASETS.join(", ")}`);
    if (
      !isInt(s.classes, 2, LIMITS.classes) ||
      (TWO_CLASS_ONLY.includes(s.dataset) && s.classes !== 2)
    )
      out.push(`classes must be 2..${LIMITS.classes} (exactly 2 for xor and alarm)`);
    if (!isInt(s.points, 10, LIMITS.points))
      out.push(`points must be a whole number 10..${LIMITS.points}`);
    if (!(s.noise >= 0 && s.noise <= 1)) out.push("noise must be 0..1");
    if (s.hidden.length > LIMITS.layers || !s.hidden.every((u) => isInt(u, 1, LIMITS.units)))
      out.push(`at most ${LIMITS.layers} hidden layers of 1..${LIMITS.units} units`);
    if (!ACTIVATIONS.includes(s.activation))
      out.push(`activation must be one of ${ACTIVATIONS.join(", ")}`);
    if (!isInt(s.maxout_pieces, 2, LIMITS.pieces))
      out.push(`maxout pieces must be 2..${LIMITS.pieces}`);
    if (!(Number.isFinite(s.learning_rate) && s.learning_rate > 0))
      out.push("the learning rate must be a number > 0");
    if (!isInt(s.batch_size, 1, s.points))
      out.push(
        `the batch size must be a whole number from 1 (SGD) to the ${s.points} points (full batch)`,
      );
    if (!LOSSES.includes(s.loss)) out.push(`loss must be one of ${LOSSES.join(", ")}`);
    if (!isInt(s.seed, 0, 4294967295)) out.push("the seed must be a whole number 0..4294967295");
    return out;
  }

  // prettier-ignore
  Object.assign(window.playground, {
    DATASETS, TWO_CLASS_ONLY, ACTIVATIONS, LOSSES, LIMITS, mulberry32, makePoints, miniBatches,
    view, problems,
  });
})();
