// The 2-D playground, part 3 of 4: the pictures. The network is run on a grid of points that
// covers the plane; each cell is coloured by the predicted probabilities (the decision
// boundary) or by one hidden unit's activation (its picture).
"use strict";

(() => {
  const { forwardMatrix, softmax } = window.playground;
  const CLASS_COLORS = [
    [245, 158, 11], // orange
    [37, 99, 235], // blue
    [5, 150, 105], // green
    [219, 39, 119], // pink
  ];
  const GRID = 50; // cells per side: 2,500 forward passes per frame

  // The network on every cell centre of a GRID x GRID grid over the view (row 0 at the top),
  // in one batch: the class probabilities and every hidden unit's activation, cell by cell.
  function probeGrid(net, view) {
    const step = (view.max - view.min) / GRID;
    const X = new Float64Array(GRID * GRID * 2);
    for (let cell = 0; cell < GRID * GRID; cell++) {
      X[2 * cell] = view.min + ((cell % GRID) + 0.5) * step; // x1: left to right
      X[2 * cell + 1] = view.max - (Math.floor(cell / GRID) + 0.5) * step; // x2: top to bottom
    }
    const cache = forwardMatrix(net, X, GRID * GRID);
    const probs = softmax(cache.logits, GRID * GRID).P; // (cells x classes)
    // unit u of hidden layer l: column u of that layer's (cells x units) activations
    const hidden = cache.hidden.map((A, l) => {
      const units = net.layers[l].units;
      const columns = Array.from({ length: units }, () => new Float64Array(GRID * GRID));
      for (let c = 0; c < GRID * GRID; c++) {
        for (let u = 0; u < units; u++) columns[u][c] = A[c * units + u];
      }
      return columns;
    });
    return { probs, classes: net.classes, hidden };
  }

  // A colour channel c at strength 0..1: 0 is white, 1 the full colour.
  const pale = (c, amount) => 255 - amount * (255 - c);

  // A GRID x GRID picture: colorOf(cell, rgb) writes each cell's colour into rgb.
  function picture(colorOf) {
    const image = new ImageData(GRID, GRID);
    const bytes = image.data; // R, G, B, A for each cell, row by row
    const rgb = [0, 0, 0];
    for (let cell = 0; cell < GRID * GRID; cell++) {
      colorOf(cell, rgb);
      for (let i = 0; i < 3; i++) bytes[cell * 4 + i] = rgb[i];
      bytes[cell * 4 + 3] = 255; // opaque
    }
    return image;
  }

  // The points never move while the network learns: they are drawn once into a layer of their
  // own, and each frame only copies that layer over the new boundary.
  const small = document.createElement("canvas");
  small.width = small.height = GRID;
  const dots = { canvas: document.createElement("canvas"), key: null };

  function drawDots(size, data, view, showTest) {
    if (dots.key === data && dots.showTest === showTest && dots.canvas.width === size) return;
    Object.assign(dots, { key: data, showTest });
    dots.canvas.width = dots.canvas.height = size;
    const ctx = dots.canvas.getContext("2d");
    const toPixel = (v, flip) => {
      const t = (v - view.min) / (view.max - view.min);
      return (flip ? 1 - t : t) * size;
    };
    const dot = (x, label, rim) => {
      ctx.beginPath();
      ctx.arc(toPixel(x[0], false), toPixel(x[1], true), 3.5, 0, 2 * Math.PI);
      ctx.fillStyle = `rgb(${CLASS_COLORS[label].join(",")})`;
      ctx.fill();
      ctx.lineWidth = 1.2;
      ctx.strokeStyle = rim;
      ctx.stroke();
    };
    data.train.x.forEach((x, i) => dot(x, data.train.y[i], "#ffffff"));
    if (showTest) data.test.x.forEach((x, i) => dot(x, data.test.y[i], "#111827"));
  }

  // Each cell: the class colours mixed in proportion to p, so unsure regions look muddy;
  // paler than the points drawn on top (white rim: training points, dark rim: test points).
  function drawBoundary(canvas, grid, data, view, showTest) {
    const K = grid.classes;
    const image = picture((cell, rgb) => {
      for (let i = 0; i < 3; i++) {
        let mix = 0;
        for (let k = 0; k < K; k++) mix += grid.probs[cell * K + k] * CLASS_COLORS[k][i];
        rgb[i] = pale(mix, 0.55);
      }
    });
    small.getContext("2d").putImageData(image, 0, 0);
    const ctx = canvas.getContext("2d");
    ctx.imageSmoothingEnabled = true; // 50x50 cells, smoothed to the canvas' size
    ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
    drawDots(canvas.width, data, view, showTest);
    ctx.drawImage(dots.canvas, 0, 0);
  }

  // Orange for a positive activation, blue for a negative one, in proportion to |a| / largest.
  function drawUnit(canvas, values) {
    let largest = 0;
    for (const v of values) largest = Math.max(largest, Math.abs(v));
    const scale = largest > 0 ? 1 / largest : 0;
    const image = picture((cell, rgb) => {
      const t = values[cell] * scale;
      const color = t >= 0 ? CLASS_COLORS[0] : CLASS_COLORS[1];
      for (let i = 0; i < 3; i++) rgb[i] = pale(color[i], Math.abs(t));
    });
    canvas.getContext("2d").putImageData(image, 0, 0); // GRID x GRID; CSS makes it 64 px
    let low = Infinity;
    let high = -Infinity;
    for (const v of values) [low, high] = [Math.min(low, v), Math.max(high, v)];
    return { low, high };
  }

  // One row of small canvases per hidden layer; rebuilt only when the network's shape changes.
  function unitCanvases(container, net) {
    const shape = net.layers
      .slice(0, -1)
      .map((l) => l.units)
      .join(",");
    if (container.dataset.shape === shape && container.childElementCount > 0) {
      return [...container.querySelectorAll(".pg-layer")].map((row) => [
        ...row.querySelectorAll("canvas"),
      ]);
    }
    container.dataset.shape = shape;
    const rows = net.layers.slice(0, -1).map((layer, l) => {
      const figures = Array.from({ length: layer.units }, (_, u) => {
        const canvas = lab.el("canvas", { width: GRID, height: GRID });
        return lab.el("figure", {}, canvas, lab.el("figcaption", {}, `${l + 1}.${u + 1}`));
      });
      return lab.el(
        "div",
        { className: "pg-layer" },
        lab.el("span", { className: "pg-layer-name" }, `layer ${l + 1}`),
        ...figures,
      );
    });
    const none = lab.el(
      "p",
      { className: "muted" },
      "No hidden layer: softmax regression, one straight edge per pair of classes.",
    );
    container.replaceChildren(...(rows.length ? rows : [none]));
    return rows.map((row) => [...row.querySelectorAll("canvas")]);
  }

  function drawUnits(container, grid, net) {
    unitCanvases(container, net).forEach((canvases, l) =>
      canvases.forEach((canvas, u) => {
        const { low, high } = drawUnit(canvas, grid.hidden[l][u]);
        const range = `from ${low.toFixed(2)} to ${high.toFixed(2)}`;
        canvas.title = `layer ${l + 1}, unit ${u + 1}: ${range}`;
      }),
    );
  }

  Object.assign(window.playground, { CLASS_COLORS, GRID, probeGrid, drawBoundary, drawUnits });
})();
