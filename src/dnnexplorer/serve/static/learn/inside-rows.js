// Inside a CNN, one row per step of the forward pass: its title, its numbers' range and its
// picture (maps, a vector, or bars for the logits and the softmax), plus a conv layer's filters.
// The rows are built once per model and redrawn on every answer.
"use strict";

const insideRows = {
  // What each kind of step is, in the workshop's words (shown under its title).
  EXPLAIN: {
    input: "what the model sees: the 28x28 digit after normalization (grey: ink bright)",
    padding: "made in the model's forward function, before the first convolution",
    conv: "one feature map per filter: the filter slid over every position of its input",
    batchnorm: "each map shifted and scaled with the training set's statistics",
    activation: "the activation applied to every value",
    pooling: "each map shrunk: one value per window",
    flatten: "the same numbers, now one long vector for the dense layers",
    dropout: "the same numbers: dropout only acts while training",
    dense: "y = Wx + b, one value per unit (the weights stay on the server)",
    logits: "the last dense layer: one score per class",
    softmax: "the scores turned into probabilities that sum to 1",
  },

  // The numbers a page multiplies with: base64 filters and statistics -> Float32Arrays.
  decodeParameters(model) {
    for (const p of Object.values(model.parameters)) {
      for (const key of ["weight", "bias", "mean", "var", "gamma", "beta"]) {
        if (typeof p[key] === "string") p[key] = insideSums.decode(p[key]);
      }
    }
    return model;
  },

  build(step, k, model) {
    const title = lab.el("h3", {}, `${k}. ${step.name} · ${step.title}`);
    const stats = lab.el("span", { className: "stat" });
    const note = lab.el("p", { className: "muted" }, insideRows.EXPLAIN[step.kind] || "");
    const section = lab.el(
      "section",
      { className: `panel layer ${step.kind}` },
      title,
      stats,
      note,
    );
    section.dataset.step = k;
    section.dataset.kind = step.kind;
    const row = { section, stats, canvas: null };
    if (step.kind === "logits" || step.kind === "softmax") {
      row.table = lab.el("table", { className: "bars" });
      section.append(row.table);
    } else if (!step.alias) {
      const hint = "click a value to see how it was computed";
      row.canvas = lab.el("canvas", { className: "maps", title: hint });
      const picture = step.kind === "input" || step.kind === "padding";
      insideView.prepare(row.canvas, insideView.layout(step.shape, picture ? 112 : 64));
      const pictures = lab.el("div", { className: "layer-pictures" }, row.canvas);
      if (step.kind === "conv") pictures.append(insideRows.filters(model.parameters[step.name]));
      section.append(pictures);
    }
    return row;
  },

  // A conv layer's filters, drawn once per model (the first MAX_FILTERS of a big layer).
  MAX_FILTERS: 32,

  filters(conv) {
    const canvas = lab.el("canvas", { className: "filters" });
    const [out, inputs, kh, kw] = conv.shape;
    const shown = Math.min(out, insideRows.MAX_FILTERS);
    insideView.drawFilters(canvas, conv.weight, conv.shape, shown);
    const bias = conv.bias ? ` and ${out} biases` : " (no bias: batch normalization follows)";
    const which = shown < out ? ` (the first ${shown} shown; click a map to see its own)` : "";
    const squares =
      inputs > 1
        ? `each filter is a row of ${inputs} squares, one per input channel`
        : "one square per filter";
    const size = `${inputs}x${kh}x${kw}`;
    const caption = `its ${out} filters of ${size} weights${bias}${which}: ${squares}`;
    const text = lab.el("figcaption", { className: "muted" }, caption);
    return lab.el("figure", { className: "filter-box" }, canvas, text);
  },

  stats(step) {
    const shape = step.shape.join("x");
    const [low, high] = [insideView.number(step.min, 3), insideView.number(step.max, 3)];
    const range = `values from ${low} to ${high}`;
    return step.alias
      ? `${shape} · ${range} (the numbers of the step before)`
      : `${shape} · ${range}`;
  },

  // Redraw a step's maps: grey for the input (pixels 0 to 1 after normalization), signed
  // colours otherwise.
  draw(row, step, model) {
    if (step.kind === "input" || step.kind === "padding") {
      const [black, white] = [-model.mean / model.std, (1 - model.mean) / model.std];
      insideView.drawMaps(row.canvas, step.values, insideView.greyPixels(black, white));
    } else {
      const limit = Math.max(Math.abs(step.min), Math.abs(step.max)) || 1;
      insideView.drawMaps(row.canvas, step.values, insideView.signedPixels(limit));
    }
  },

  // Logits and softmax: one bar per class with its number; the model's answer stands out.
  bars(row, step, answer) {
    const values = Array.from(step.values);
    const top = Math.max(...values.map(Math.abs)) || 1;
    const lines = values.map((v, n) => {
      const bar = lab.el("div", { className: "bar" + (v < 0 ? " negative" : "") });
      bar.style.width = `${(100 * Math.abs(v)) / top}%`;
      const shown = step.kind === "softmax" ? lab.percent(v, 2) : v.toFixed(3);
      const line = lab.el(
        "tr",
        {},
        lab.el("th", {}, answer.classes[n]),
        lab.el("td", { className: "num" }, shown),
        lab.el("td", { className: "track" }, bar),
      );
      if (n === answer.digit) line.className = "winner";
      return line;
    });
    row.table.replaceChildren(lab.el("tbody", {}, ...lines));
  },

  // Frame the clicked value on its layer's canvas.
  outline(row, selected) {
    if (!selected) return;
    insideRows.frame(row.canvas, [selected.map], selected.i, selected.j, 1, 1, "#111");
  },

  // Frame the window the clicked value was computed from, in the step before.
  outlineWindow(row, window) {
    if (!row.canvas) return;
    insideRows.frame(row.canvas, window.maps, window.i, window.j, window.h, window.w, "#f59e0b");
  },

  frame(canvas, maps, i, j, h, w, colour) {
    const layout = canvas.layout;
    const context = canvas.getContext("2d", { willReadFrequently: true });
    context.strokeStyle = colour;
    context.lineWidth = 2;
    // A window hanging over the border (padding) is framed where it meets the map.
    const [top, left] = [Math.max(0, i), Math.max(0, j)];
    const [rows, cols] = [Math.min(layout.h, i + h) - top, Math.min(layout.w, j + w) - left];
    if (rows <= 0 || cols <= 0) return;
    for (const map of maps) {
      const [x, y] = insideView.origin(layout, map);
      const [dx, dy] = [x + left * layout.zoom, y + top * layout.zoom];
      context.strokeRect(dx + 1, dy + 1, cols * layout.zoom - 2, rows * layout.zoom - 2);
    }
  },
};

window.insideRows = insideRows;
