// Gradient descent on chapter 3's houses, in plain JavaScript: the pure arithmetic of the page
// /learn/descent. It repeats, in float64 and in the same order of operations, what the Python
// lesson does (src/dnnexplorer/lessons/gradient_descent.py, `mse_gradient` and `descend`), so a
// test can compare the two walks number for number.
//
//   J(w, b) = mean((yᵢ − (w·xᵢ + b))²)          the loss of the line y = w·x + b
//   (w, b) ← (w, b) − η·∇J                      one step, on the step's houses only
//
// Batch descent takes the mean over every house, stochastic descent over one house, mini-batch
// over a few. Everything here is a pure function: the page (descent.js) keeps the state.
// In the browser's console: descent.descend(descent.page.data.houses, [-1, 1], 0.1).
"use strict";

window.descent = (() => {
  // J(w, b) on every house: the mean of the squared errors.
  function loss(houses, w, b) {
    const { x, y } = houses;
    let sum = 0;
    for (let i = 0; i < x.length; i++) {
      const r = y[i] - (w * x[i] + b); // house i's error
      sum += r * r;
    }
    return sum / x.length;
  }

  // ∇J = (∂J/∂w, ∂J/∂b) on the houses `batch` (their indices; null: all, in order), by the
  // chain rule: ∂J/∂w = −2·mean(xᵢ·rᵢ) and ∂J/∂b = −2·mean(rᵢ), with rᵢ = yᵢ − (w·xᵢ + b).
  function gradient(houses, w, b, batch = null) {
    const { x, y } = houses;
    const n = batch ? batch.length : x.length;
    let sumXR = 0;
    let sumR = 0;
    for (let k = 0; k < n; k++) {
      const i = batch ? batch[k] : k;
      const r = y[i] - (w * x[i] + b);
      sumXR += x[i] * r;
      sumR += r;
    }
    return [-2 * (sumXR / n), -2 * (sumR / n)];
  }

  // A walk as the lesson's `Walk` records it: every (w, b) visited and J there.
  function newWalk(houses, start) {
    const [w, b] = start;
    return { points: [[w, b]], losses: [loss(houses, w, b)], updates: 0, divergedAt: null };
  }

  // One update with learning rate `rate` on the houses `batch`, then the lesson's rule for a
  // walk that runs away: keep only finite numbers, and stop once J passes `diverged` times its
  // value at the start (divergedAt: the update where that happened).
  function step(walk, houses, rate, batch, diverged) {
    const [w, b] = walk.points[walk.points.length - 1];
    const [dw, db] = gradient(houses, w, b, batch);
    const next = [w - rate * dw, b - rate * db];
    const J = loss(houses, next[0], next[1]);
    walk.updates += 1;
    if (Number.isFinite(J)) {
      walk.points.push(next);
      walk.losses.push(J);
    }
    if (!Number.isFinite(J) || J > diverged * walk.losses[0]) walk.divergedAt = walk.updates;
    return walk;
  }

  // A whole walk, as gradient_descent.descend(x, y, rate, steps, start, batches) runs it:
  // `steps` batch steps, or one step per entry of `batches`; it ends where it diverges.
  function descend(houses, start, rate, { steps = 400, batches = null, diverged = 1e3 } = {}) {
    const walk = newWalk(houses, start);
    const count = batches ? batches.length : steps;
    for (let k = 0; k < count && walk.divergedAt === null; k++) {
      step(walk, houses, rate, batches ? batches[k] : null, diverged);
    }
    return walk;
  }

  // One epoch's updates: the shuffled `order` of the houses cut into mini-batches of `size`
  // (the last one smaller when `size` does not divide the number of houses, as in chapter 3).
  function batchesOf(order, size) {
    const batches = [];
    for (let start = 0; start < order.length; start += size) {
      batches.push(order.slice(start, start + size));
    }
    return batches;
  }

  // A seeded random generator (mulberry32): numbers in [0, 1), the same sequence after a reset.
  function seeded(seed) {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  // A new order of the houses 0..n−1 for an epoch (Fisher–Yates shuffle).
  function shuffle(n, random) {
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    return order;
  }

  // How far (w, b) is from the least-squares answer: the larger of |w − w*| and |b − b*|, the
  // lesson's measure (within its tolerance 0.001: arrived).
  function distance(point, best) {
    return Math.max(Math.abs(point[0] - best.w), Math.abs(point[1] - best.b));
  }

  // J − J* from the Hessian H: J is exactly quadratic, so J − J* = ½·Δᵀ·H·Δ, Δ = (w, b) − (w*, b*).
  function excess(h, dw, db) {
    return 0.5 * (h[0][0] * dw * dw + 2 * h[0][1] * dw * db + h[1][1] * db * db);
  }

  // The contour J = J* + level: an ellipse around the bottom whose axes lie along H's
  // eigenvectors, with half-lengths √(2·level/λ). `count` points of it, as [w, b].
  function contour(surface, level, count = 120) {
    const { w, b } = surface.least_squares;
    const [[u1, u2], [v1, v2]] = surface.eigenvectors;
    const [r1, r2] = surface.eigenvalues.map((lam) => Math.sqrt((2 * level) / lam));
    const points = [];
    for (let k = 0; k <= count; k++) {
      const t = (2 * Math.PI * k) / count;
      const [c, s] = [r1 * Math.cos(t), r2 * Math.sin(t)];
      points.push([w + c * u1 + s * v1, b + c * u2 + s * v2]);
    }
    return points;
  }

  return {
    loss, gradient, newWalk, step, descend, batchesOf, seeded, shuffle, distance, excess, contour,
  };
})();
