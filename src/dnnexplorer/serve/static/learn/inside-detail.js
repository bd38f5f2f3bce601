// Inside a CNN, the arithmetic of one clicked value: which numbers of the step before made it,
// and how. For a convolution: the k x k window of every input channel, the filter, the products
// and the sum plus bias, redone here (insideSums) and checked against the server's value.
"use strict";

const insideDetail = {
  // { title, nodes, window } for value (map, i, j) of step k; `window`: what to frame in step k-1.
  explain(steps, k, selected, model, answer) {
    const step = steps[k];
    const [h, w] = step.shape.length === 3 ? step.shape.slice(1) : [1, 1];
    const index = (selected.map * h + selected.i) * w + selected.j;
    const server = step.values[index];
    const where =
      step.shape.length === 3 && h * w > 1
        ? `map ${selected.map}, row ${selected.i}, column ${selected.j}`
        : `unit ${selected.map}`;
    const title = `${step.name} (${step.kind}): ${where} = ${insideView.number(server)}`;
    const explain = insideDetail[step.kind] || insideDetail.dense;
    const context = {
      steps,
      k,
      step,
      selected,
      index,
      server,
      model,
      answer,
      previous: steps[k - 1],
    };
    const { nodes, window } = explain(context);
    return { title, nodes, window };
  },

  // The check every detail ends with: this page's result next to the server's.
  check(value, server, terms) {
    const difference = Math.abs(value - server);
    const ok = difference <= insideSums.tolerance(terms);
    const line = lab.el(
      "p",
      { className: "check " + (ok ? "ok" : "bad") },
      "computed here: ",
      lab.el("b", { id: "detail-value" }, insideView.number(value, 8)),
      " · the server's value: ",
      lab.el("b", { id: "detail-server" }, insideView.number(server, 8)),
      " · difference: ",
      lab.el("b", { id: "detail-diff" }, difference.toExponential(1)),
      ok ? " ✓ equal up to float32 rounding" : " ✗ they differ",
    );
    line.dataset.value = value; // full precision, for tests and the curious
    line.dataset.server = server;
    return line;
  },

  conv(c) {
    const params = c.step.params;
    const conv = c.model.parameters[c.step.name];
    const { map, i, j } = c.selected;
    const sums = insideSums.convWindow(
      c.previous.values,
      c.previous.shape,
      conv.weight,
      conv.shape,
      conv.bias,
      params,
      map,
      i,
      j,
    );
    const inputLimit = Math.max(Math.abs(c.previous.min), Math.abs(c.previous.max)) || 1;
    const weightLimit = insideView.largest(conv.weight) || 1;
    const productLimit =
      Math.max(...sums.channels.map((ch) => insideView.largest(ch.products))) || 1;
    const blocks = sums.channels.map((ch) => {
      const grids = [
        insideDetail.labelled(
          "window of the input",
          insideView.grid(ch.window, sums.size, inputLimit),
        ),
        insideDetail.labelled("× filter", insideView.grid(ch.filter, sums.size, weightLimit, 3)),
        insideDetail.labelled(
          "= products",
          insideView.grid(ch.products, sums.size, productLimit, 3),
        ),
      ];
      const caption = lab.el(
        "figcaption",
        {},
        `input channel ${ch.channel}: Σ = ${insideView.number(ch.sum, 5)}`,
      );
      return lab.el(
        "figure",
        { className: "channel" },
        caption,
        lab.el("div", { className: "row" }, ...grids),
      );
    });
    const [s, p] = [params.stride[0], params.padding[0]];
    const formula =
      `y = b + Σ over ${sums.channels.length} input channel(s) of Σ (window × filter); ` +
      `the window starts at row ${i * s - p}, column ${j * s - p} of the input ` +
      `(stride ${s}, padding ${p}: "pad" cells are zeros)`;
    const total = lab.el(
      "p",
      {},
      `Σ products = ${insideView.number(sums.sum, 8)}, ` +
        `+ bias ${insideView.number(sums.bias, 6)} = `,
      lab.el("b", {}, insideView.number(sums.value, 8)),
    );
    const terms = sums.channels.flatMap((ch) => ch.products).concat([sums.bias]);
    const nodes = [
      lab.el("p", { className: "muted" }, formula),
      lab.el("div", { className: "channels" }, ...blocks),
      total,
      insideDetail.check(sums.value, c.server, terms),
    ];
    const maps = sums.channels.map((ch) => ch.channel);
    return {
      nodes,
      window: { maps, i: i * s - p, j: j * s - p, h: sums.size[0], w: sums.size[1] },
    };
  },

  pooling(c) {
    const { map, i, j } = c.selected;
    const params = c.step.params;
    const pool = insideSums.poolWindow(c.previous.values, c.previous.shape, params, map, i, j);
    const limit = Math.max(Math.abs(c.previous.min), Math.abs(c.previous.max)) || 1;
    const how = params.how === "max" ? "the largest" : "the mean";
    const nodes = [
      lab.el(
        "p",
        {},
        `${how} of this ${pool.size.join("x")} window of map ${map} in the step before:`,
      ),
      insideView.grid(pool.window, pool.size, limit, 4),
      insideDetail.check(pool.value, c.server, pool.window),
    ];
    const window = {
      maps: [map],
      i: i * params.stride[0],
      j: j * params.stride[1],
      h: pool.size[0],
      w: pool.size[1],
    };
    return { nodes, window };
  },

  activation(c) {
    const params = c.step.params;
    const { map, i, j } = c.selected;
    if (params.function === "maxout") {
      const [h, w] = c.step.shape.length === 3 ? c.step.shape.slice(1) : [1, 1];
      const got = insideSums.maxoutPieces(c.previous.values, params.pieces, map, i * w + j, h * w);
      const pieces = got.pieces.map((x) => insideView.number(x)).join(", ");
      return {
        nodes: [
          lab.el("p", {}, `max of its ${params.pieces} pieces (${pieces})`),
          insideDetail.check(got.value, c.server, got.pieces),
        ],
      };
    }
    const x = c.previous.values[c.index];
    const value = insideSums.activate(params, x);
    const nodes = [
      lab.el(
        "p",
        {},
        `${c.step.title}, applied to the value before, x = ${insideView.number(x, 8)}:`,
      ),
      insideDetail.check(value, c.server, [x]),
    ];
    return { nodes, window: { maps: [map], i, j, h: 1, w: 1 } };
  },

  batchnorm(c) {
    const stats = { ...c.model.parameters[c.step.name], eps: c.step.params.eps };
    const x = c.previous.values[c.index];
    const { map, i, j } = c.selected;
    const got = insideSums.batchNorm(x, stats, map);
    const n = (v) => insideView.number(v, 5);
    const text =
      `(x − mean) / √(var + ε) · γ + β = (${n(x)} − ${n(stats.mean[map])}) ` +
      `/ √(${n(stats.var[map])} + ${stats.eps}) ` +
      `· ${n(stats.gamma[map])} + ${n(stats.beta[map])}`;
    return {
      nodes: [
        lab.el("p", {}, text),
        insideDetail.check(got.value, c.server, [x * got.scale, stats.beta[map]]),
      ],
      window: { maps: [map], i, j, h: 1, w: 1 },
    };
  },

  input(c) {
    const p = c.answer.pixels[c.index];
    const { mean, std } = c.model;
    const value = (p - mean) / std;
    const text =
      `pixel p = ${insideView.number(p, 5)} (0 background, 1 ink) ` +
      `becomes x = (p − ${mean}) / ${std}`;
    return { nodes: [lab.el("p", {}, text), insideDetail.check(value, c.server, [value])] };
  },

  padding(c) {
    const pad = c.step.params.padding;
    const [, h, w] = c.previous.shape;
    const { map, i, j } = c.selected;
    const [si, sj] = [Math.min(h - 1, Math.max(0, i - pad)), Math.min(w - 1, Math.max(0, j - pad))];
    const inside = si === i - pad && sj === j - pad;
    const value =
      inside || c.step.params.mode === "replicate"
        ? insideSums.at(c.previous.values, c.previous.shape, map, si, sj)
        : 0;
    const text = inside
      ? `pixel (${si}, ${sj}) of the input, moved by ${pad}`
      : `a border pixel (${c.step.params.mode}): it repeats the input's pixel (${si}, ${sj})`;
    return {
      nodes: [lab.el("p", {}, text), insideDetail.check(value, c.server, [value])],
      window: { maps: [map], i: si, j: sj, h: 1, w: 1 },
    };
  },

  softmax(c) {
    const probs = insideSums.softmax(c.previous.values);
    const z = c.previous.values[c.index];
    const text = `p = e^z / Σ e^z over the ${probs.length} logits, z = ${insideView.number(z, 6)}`;
    return { nodes: [lab.el("p", {}, text), insideDetail.check(probs[c.index], c.server, [1])] };
  },

  dense(c) {
    const inputs = c.step.params.in_features;
    const text =
      `a weighted sum of the ${inputs} values of the step before, plus a bias (y = Wx + b). ` +
      `Its ${inputs} weights per unit stay on the server: this page does not redo this sum.`;
    return { nodes: [lab.el("p", {}, text)] };
  },

  labelled(text, table) {
    return lab.el(
      "div",
      { className: "grid-box" },
      lab.el("div", { className: "muted" }, text),
      table,
    );
  },
};

window.insideDetail = insideDetail;
