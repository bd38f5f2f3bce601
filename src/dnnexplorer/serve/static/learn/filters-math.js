// The arithmetic of the Learn page "How a filter works": chapters 12 and 13 of the course, the
// Python lessons slash-world (src/dnnexplorer/lessons/slash_world.py) and xo-world
// (xo_world.py), written again in plain JavaScript so that it runs in the browser at once.
// Nothing here touches the page: every function takes numbers and returns numbers, and a test
// compares each one with the Python lesson (tests/e2e/test_e2e_filters.py). Try them in the
// browser's console: filterWorld.score([[-1, 1], [1, -1]], [[-1, 1], [1, -1]]) -> 4.
"use strict";

const filterWorld = (() => {
  // ---- The 2x2 world (chapter 12): "/" and "\", +1 ink, -1 paper --------------------------
  const SLASH = 1, BACKSLASH = -1, NO_IDEA = 0; // labels: the sign of the score we want
  const WORKSHOP_FILTER = [[-1, 1], [1, -1]]; // the "/" itself: a score > 0 means "/"
  const GD_STEPS = 200, GD_LR = 0.5; // the lesson's gradient descent
  // name, 2x2 image, label: slash_world.IMAGES, in the same order
  const SLASH_IMAGES = [
    ["/", [[-1, 1], [1, -1]], SLASH],
    ["\\", [[1, -1], [-1, 1]], BACKSLASH],
    ["poorly drawn / (stray top-left)", [[1, 1], [1, -1]], SLASH],
    ["poorly drawn / (stray bottom-right)", [[-1, 1], [1, 1]], SLASH],
    ["incomplete / (no top-right)", [[-1, -1], [1, -1]], SLASH],
    ["incomplete / (no bottom-left)", [[-1, 1], [-1, -1]], SLASH],
    ["poorly drawn \\ (stray top-right)", [[1, 1], [-1, 1]], BACKSLASH],
    ["poorly drawn \\ (stray bottom-left)", [[1, -1], [1, 1]], BACKSLASH],
    ["incomplete \\ (no top-left)", [[-1, -1], [-1, 1]], BACKSLASH],
    ["incomplete \\ (no bottom-right)", [[1, -1], [-1, -1]], BACKSLASH],
    ["vertical bar (left)", [[1, -1], [1, -1]], NO_IDEA],
    ["vertical bar (right)", [[-1, 1], [-1, 1]], NO_IDEA],
    ["horizontal bar (top)", [[1, 1], [-1, -1]], NO_IDEA],
    ["horizontal bar (bottom)", [[-1, -1], [1, 1]], NO_IDEA],
  ];

  const negate = (grid) => grid.map((row) => row.map((v) => -v));

  // Lay the filter on the image and multiply pixel by pixel: +1 where they agree, -1 not.
  function overlay(filter, image) {
    return filter.map((row, i) => row.map((w, j) => w * image[i][j]));
  }

  // The dot product s = sum_ij F_ij x_ij: the sum of the overlay's products, row by row.
  function score(filter, image) {
    let s = 0;
    for (const row of overlay(filter, image)) for (const p of row) s += p;
    return s;
  }

  // What a score says with the workshop's filter: "/", "\" or "no idea".
  function verdict(s) {
    return s > 0 ? "/" : s < 0 ? "\\" : "no idea";
  }

  // The images with a known answer (label +1 or -1): what gradient descent learns from.
  function labelled() {
    const known = SLASH_IMAGES.filter(([, , label]) => label !== NO_IDEA);
    return { images: known.map(([, im]) => im), labels: known.map(([, , y]) => y) };
  }

  // log(1 + e^z), as torch.nn.functional.softplus computes it (linear above 20).
  function softplus(z) {
    return z > 20 ? z : Math.log1p(Math.exp(z));
  }

  // The logistic loss L(F) = mean_k log(1 + e^(-y_k s_k)): small when every score has the sign
  // of its label.
  function loss(filter) {
    const { images, labels } = labelled();
    let total = 0;
    images.forEach((x, k) => (total += softplus(-labels[k] * score(filter, x))));
    return total / images.length;
  }

  // dL/dF = mean_k -y_k sigma(-y_k s_k) x_k: each "/" pulls the filter towards itself, each "\"
  // pushes it away, the more the worse its score. (Written in the order autograd multiplies.)
  function gradient(filter) {
    const { images, labels } = labelled();
    const grad = [[0, 0], [0, 0]];
    images.forEach((x, k) => {
      const z = -labels[k] * score(filter, x);
      const e = Math.exp(z);
      const dz = z > 20 ? 1 / images.length : ((1 / images.length) * e) / (e + 1);
      const ds = dz * -labels[k]; // dL/ds_k
      for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) grad[i][j] += ds * x[i][j];
    });
    return grad;
  }

  // Gradient descent from `start`: F <- F - lr * dL/dF, `steps` times. Returns every filter
  // (start first, steps + 1 of them) and the loss of each before its step, as slash_world.descend.
  function descend(start, steps = GD_STEPS, lr = GD_LR) {
    let filter = start.map((row) => row.map(Number));
    const filters = [filter], losses = [];
    for (let t = 0; t < steps; t++) {
      losses.push(loss(filter));
      const grad = gradient(filter);
      filter = filter.map((row, i) => row.map((w, j) => w - lr * grad[i][j]));
      filters.push(filter);
    }
    return { filters, losses };
  }

  // ---- The 3x3 world (chapter 13): "/", "\", X, O; convolution, threshold, pooling, dense ----
  const CLASSES = ["/", "\\", "X", "O"];
  const XO_IMAGES = [ // xo_world.IMAGES, in the order of CLASSES
    [[-1, -1, 1], [-1, 1, -1], [1, -1, -1]],
    [[1, -1, -1], [-1, 1, -1], [-1, -1, 1]],
    [[1, -1, 1], [-1, 1, -1], [1, -1, 1]],
    [[-1, 1, -1], [1, -1, 1], [-1, 1, -1]],
  ];
  const XO_FILTERS = [WORKSHOP_FILTER, negate(WORKSHOP_FILTER)]; // the "/" and "\" filters
  const THRESHOLD = 3; // scores of +-1 filters are even numbers in [-4, 4]: > 3 is a perfect 4

  // The patch under the filter when its top-left corner sits on (r, c).
  function patch(image, r, c, size = 2) {
    return image.slice(r, r + size).map((row) => row.slice(c, c + size));
  }

  // Slide one filter over the image, stride 1: m[r][c] = sum_ij F[i][j] x[r+i][c+j].
  // A k x k filter on an n x n image gives an (n - k + 1) x (n - k + 1) feature map.
  function featureMap(image, filter) {
    const n = image.length - filter.length + 1;
    const map = [];
    for (let r = 0; r < n; r++) {
      map.push([]);
      for (let c = 0; c < n; c++) map[r].push(score(filter, patch(image, r, c, filter.length)));
    }
    return map;
  }

  // One feature map per filter, as xo_world.feature_maps (F.conv2d) computes them.
  function featureMaps(image, filters = XO_FILTERS) {
    return filters.map((filter) => featureMap(image, filter));
  }

  // The threshold: 1 where a filter matched perfectly (score > 3), else 0.
  function detect(maps) {
    return maps.map((map) => map.map((row) => row.map((m) => (m > THRESHOLD ? 1 : 0))));
  }

  // Global max pooling: was each stroke found anywhere? One number per map.
  function pool(detected) {
    return detected.map((map) => Math.max(...map.flat()));
  }

  // The fully connected layer by hand, "all my strokes and nothing else": each character's unit
  // weighs +1 where its strokes are found, -1 elsewhere; bias 1 - its number of strokes.
  function designDenseLayer() {
    const templates = XO_IMAGES.map((image) => detect(featureMaps(image)).flat(2)); // 4 x 8
    return {
      weight: templates.map((t) => t.map((d) => 2 * d - 1)),
      bias: templates.map((t) => 1 - t.reduce((a, b) => a + b, 0)),
    };
  }

  // The whole network: slide the filters, threshold, then z = W d + b, one score per character.
  function logits(image, filters = XO_FILTERS) {
    const d = detect(featureMaps(image, filters)).flat(2); // the 8 detections, map by map
    const { weight, bias } = designDenseLayer();
    return weight.map((w, k) => w.reduce((z, wj, j) => z + wj * d[j], 0) + bias[k]);
  }

  // The answer: the character with the largest score, or "no idea" when the best ones tie.
  function answer(z) {
    const best = Math.max(...z);
    const tied = CLASSES.filter((_, k) => z[k] === best);
    return { label: tied.length === 1 ? tied[0] : "no idea", tied };
  }

  return {
    SLASH_IMAGES, WORKSHOP_FILTER, GD_STEPS, GD_LR, CLASSES, XO_IMAGES, XO_FILTERS, THRESHOLD,
    negate, overlay, score, verdict, labelled, loss, gradient, descend,
    patch, featureMap, featureMaps, detect, pool, designDenseLayer, logits, answer,
  };
})();

window.filterWorld = filterWorld;
