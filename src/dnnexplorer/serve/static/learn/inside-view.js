// Inside a CNN, the pictures: feature maps, filters and vectors drawn on canvases. Each layer is
// one canvas with its maps tiled on it, painted pixel by pixel in JavaScript and put on the
// canvas with one call, which keeps a refresh of every layer to a few milliseconds (hundreds of
// <img> elements would each need a PNG; a scaled drawImage per map costs a flush each).
// Colours as in `dnnx` figures: red positive, blue negative, white zero, on a symmetric scale
// per layer; the input is grey, ink bright as in MNIST.
"use strict";

const insideView = {
  GAP: 4, // CSS pixels between two maps
  MAX_WIDTH: 720, // CSS pixels a layer's maps may take
  FILTERS_WIDTH: 400, // and its filters, beside them
  FILTERS_HEIGHT: 240,

  // How a layer's maps (C, H, W) are tiled: zoom (CSS pixels per value) and columns; each map
  // takes about `side` CSS pixels.
  layout(shape, side = 64) {
    const [count, h, w] = shape.length === 3 ? shape : [shape[0], 1, 1];
    if (h === 1 && w === 1) return insideView.vectorLayout(count);
    const zoom = Math.max(2, Math.min(10, Math.round(side / Math.max(h, w))));
    const tileW = w * zoom + insideView.GAP;
    const columns = Math.max(1, Math.min(count, Math.floor(insideView.MAX_WIDTH / tileW)));
    return { count, h, w, zoom, columns, rows: Math.ceil(count / columns) };
  },

  // A vector (dense layer, or maps of 1x1) is a strip of cells, wrapped.
  vectorLayout(count) {
    const zoom = count <= 16 ? 28 : 16;
    const columns = Math.min(count, Math.floor(insideView.MAX_WIDTH / (zoom + 3)));
    return { count, h: 1, w: 1, zoom, columns, rows: Math.ceil(count / columns), vector: true };
  },

  // Size the canvas for its layout once, and frame each map with a 1-pixel grey line (so a map
  // of zeros, all white, still shows where it is). Drawing reuses this ImageData.
  prepare(canvas, layout) {
    const gap = layout.vector ? 3 : insideView.GAP;
    canvas.width = layout.columns * (layout.w * layout.zoom + gap) - gap + 2;
    canvas.height = layout.rows * (layout.h * layout.zoom + gap) - gap + 2;
    canvas.layout = { ...layout, gap };
    const context = canvas.getContext("2d", { willReadFrequently: true }); // a CPU canvas
    context.fillStyle = "#d1d5db";
    for (let n = 0; n < layout.count; n++) {
      const [x, y] = insideView.origin(canvas.layout, n);
      context.fillRect(x - 1, y - 1, layout.w * layout.zoom + 2, layout.h * layout.zoom + 2);
    }
    canvas.image = context.getImageData(0, 0, canvas.width, canvas.height);
    return canvas;
  },

  // The canvas pixel where map n's top-left value is drawn.
  origin(layout, n) {
    const x = (n % layout.columns) * (layout.w * layout.zoom + layout.gap) + 1;
    const y = Math.floor(n / layout.columns) * (layout.h * layout.zoom + layout.gap) + 1;
    return [x, y];
  },

  // Signed colour: red for positive, blue for negative, white for 0; `limit` maps to full colour.
  signed(v, limit) {
    const t = Math.max(-1, Math.min(1, v / limit));
    const pos = Math.max(0, t);
    const neg = Math.max(0, -t);
    return [255 * (1 - neg), 255 * (1 - pos - neg), 255 * (1 - pos)];
  },

  // 256 colours as 32-bit pixels (0xAABBGGRR, little-endian RGBA), from colour(t), t in [0, 1].
  palette(colour) {
    const table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      const [r, g, b] = colour(n / 255).map(Math.round);
      table[n] = ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0;
    }
    return table;
  },

  SIGNED: null, // the red-white-blue palette, built on first use
  GREY: null,

  // value -> pixel for a signed layer: -limit is full blue, 0 white, +limit full red.
  signedPixels(limit) {
    insideView.SIGNED ??= insideView.palette((t) => insideView.signed(2 * t - 1, 1));
    const table = insideView.SIGNED;
    return (v) => table[Math.max(0, Math.min(255, Math.round(((v / limit + 1) * 255) / 2)))];
  },

  // value -> pixel for the input: a grey level, `low` black and `high` white.
  greyPixels(low, high) {
    insideView.GREY ??= insideView.palette((t) => [255 * t, 255 * t, 255 * t]);
    const table = insideView.GREY;
    return (v) => table[Math.max(0, Math.min(255, Math.round((255 * (v - low)) / (high - low))))];
  },

  // Draw all maps of a layer in one go: each value becomes a zoom x zoom block of its colour in
  // an ImageData the size of the canvas, put on the canvas with one call.
  drawMaps(canvas, values, pixel) {
    const { w, h, zoom, count } = canvas.layout;
    const image = canvas.image; // its gaps stay transparent: only the maps' pixels are written
    const pixels = new Uint32Array(image.data.buffer); // one number per pixel
    const stride = canvas.width;
    for (let n = 0; n < count; n++) {
      const [left, top] = insideView.origin(canvas.layout, n);
      for (let i = 0; i < h; i++) {
        for (let j = 0; j < w; j++) {
          const colour = pixel(values[(n * h + i) * w + j]);
          const start = (top + i * zoom) * stride + left + j * zoom;
          for (let u = 0; u < zoom; u++) {
            pixels.fill(colour, start + u * stride, start + u * stride + zoom);
          }
        }
      }
    }
    canvas.getContext("2d").putImageData(image, 0, 0);
  },

  // Which value a click on a layer's canvas points at: [map, row, column], or null (a gap).
  pick(canvas, event) {
    const layout = canvas.layout;
    const box = canvas.getBoundingClientRect();
    const x = ((event.clientX - box.left) * canvas.width) / box.width - 1;
    const y = ((event.clientY - box.top) * canvas.height) / box.height - 1;
    const [tileW, tileH] = [
      layout.w * layout.zoom + layout.gap,
      layout.h * layout.zoom + layout.gap,
    ];
    const [column, row] = [Math.floor(x / tileW), Math.floor(y / tileH)];
    const i = Math.floor((y - row * tileH) / layout.zoom);
    const j = Math.floor((x - column * tileW) / layout.zoom);
    const map = row * layout.columns + column;
    const outside = x < 0 || y < 0 || column >= layout.columns || map >= layout.count;
    return outside || i >= layout.h || j >= layout.w ? null : [map, i, j];
  },

  // A conv layer's filters: each filter is a row of k x k squares, one per input channel, and
  // as many filters sit side by side as fit in FILTERS_WIDTH; the largest zoom that keeps the
  // picture under FILTERS_HEIGHT. At most `shown` filters are drawn.
  drawFilters(canvas, weight, shape, shown) {
    const [, inputs, kh, kw] = shape;
    const perRowAt = (zoom) => Math.floor(insideView.FILTERS_WIDTH / (inputs * (kw * zoom + 3)));
    const heightAt = (zoom) => Math.ceil(shown / perRowAt(zoom)) * (kh * zoom + 3);
    let zoom = 8;
    while (zoom > 1 && (perRowAt(zoom) < 1 || heightAt(zoom) > insideView.FILTERS_HEIGHT)) zoom--;
    const fitting = Math.max(1, perRowAt(zoom));
    const perRow = Math.ceil(shown / Math.ceil(shown / fitting)); // rows of equal length
    const layout = { count: shown * inputs, h: kh, w: kw, zoom, columns: inputs * perRow };
    layout.rows = Math.ceil(layout.count / layout.columns);
    insideView.prepare(canvas, { ...layout, vector: true }); // narrow gaps
    const limit = insideView.largest(weight) || 1;
    insideView.drawMaps(canvas, weight, insideView.signedPixels(limit));
  },

  // A small grid of numbers (a window, a filter, products) as a table; null cells are padding.
  grid(values, [h, w], limit, digits = 2) {
    const rows = [];
    for (let u = 0; u < h; u++) {
      const cells = [];
      for (let v = 0; v < w; v++) {
        const x = values[u * w + v];
        const cell = lab.el("td", {}, x === null ? "pad" : x.toFixed(digits));
        if (x !== null) cell.style.background = insideView.css(insideView.signed(x, limit));
        if (x !== null && Math.abs(x) > 0.6 * limit) cell.className = "strong"; // white text
        if (x === null) cell.className = "padding";
        cells.push(cell);
      }
      rows.push(lab.el("tr", {}, ...cells));
    }
    return lab.el("table", { className: "numbers" }, lab.el("tbody", {}, ...rows));
  },

  // The largest |value| (a loop: spreading 48,000 numbers into Math.max can overflow the stack).
  largest(values) {
    let top = 0;
    for (const v of values) top = Math.max(top, Math.abs(v));
    return top;
  },

  css([r, g, b]) {
    return `rgb(${Math.round(r)}, ${Math.round(g)}, ${Math.round(b)})`;
  },

  // 0.000123 -> "1.23e-4", 12.3456 -> "12.3456": enough digits to see float32 agreement.
  number(x, digits = 6) {
    if (x === null || x === undefined) return "–";
    return Math.abs(x) >= 1e-3 || x === 0
      ? (+x.toPrecision(digits)).toString()
      : x.toExponential(2);
  },
};

window.insideView = insideView;
