// What /learn/descent draws: the contour map of J(w, b) over the (w, b) plane with the walk's
// path on top, and the chart of J after each update. The surface is drawn once (shaded bands
// and contour lines, as the lesson's paths.png), kept in an off-screen canvas, and only the
// path is redrawn after each update.
// Contour levels follow the lesson: J* plus 14 geometric steps from 0.003 to the largest J − J*
// in view. w runs left to right, b bottom to top.
"use strict";

const descentDraw = (() => {
  const MARGIN = { left: 52, right: 14, top: 12, bottom: 40 }; // room for the axes' labels
  const LEVELS = 14;
  const LOW = [37, 99, 235]; // band colour at the bottom of the bowl ...
  const HIGH = [254, 252, 232]; // ... and high up its sides

  // The map for one surface (the server's /api/learn/regression answer) on `canvas`.
  function createMap(canvas, surface) {
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.width;
    const height = canvas.height;
    canvas.width = Math.round(width * ratio); // sharp lines on high-density screens
    canvas.height = Math.round(height * ratio);
    const area = { left: MARGIN.left, top: MARGIN.top };
    area.width = width - MARGIN.left - MARGIN.right;
    area.height = height - MARGIN.top - MARGIN.bottom;
    const map = { canvas, surface, ratio, width, height, area, ...scales(surface.window, area) };
    map.background = drawSurface(map);
    return map;
  }

  // From (w, b) to the canvas's pixels and back.
  function scales(view, area) {
    const [w0, w1] = view.w;
    const [b0, b1] = view.b;
    return {
      toPixel: (w, b) => [
        area.left + ((w - w0) / (w1 - w0)) * area.width,
        area.top + ((b1 - b) / (b1 - b0)) * area.height,
      ],
      fromPixel: (px, py) => [
        w0 + ((px - area.left) / area.width) * (w1 - w0),
        b1 - ((py - area.top) / area.height) * (b1 - b0),
      ],
      inside: (px, py) =>
        px >= area.left && px <= area.left + area.width &&
        py >= area.top && py <= area.top + area.height,
    };
  }

  // The lesson's contour levels above J*: geometric from 0.003 to the highest corner of the view.
  function levels(surface) {
    const { w, b } = surface.least_squares;
    const corners = surface.window.w.flatMap((cw) => surface.window.b.map((cb) => [cw, cb]));
    const heights = corners.map(([cw, cb]) => descent.excess(surface.hessian, cw - w, cb - b));
    const top = Math.max(...heights); // a bowl is highest at a corner of the view
    return Array.from({ length: LEVELS }, (_, i) => 0.003 * (top / 0.003) ** (i / (LEVELS - 1)));
  }

  // The surface, once, off screen: a band of colour between contours, the contour lines, axes.
  function drawSurface(map) {
    const off = document.createElement("canvas");
    off.width = map.canvas.width;
    off.height = map.canvas.height;
    const ctx = off.getContext("2d");
    const steps = levels(map.surface);
    ctx.putImageData(bands(map, ctx, steps), 0, 0);
    ctx.scale(map.ratio, map.ratio);
    clipToArea(ctx, map.area);
    ctx.strokeStyle = "rgba(55, 65, 81, 0.55)";
    ctx.lineWidth = 0.8;
    for (const level of steps) polyline(ctx, map, descent.contour(map.surface, level));
    ctx.restore();
    drawAxes(ctx, map);
    return off;
  }

  // Every pixel coloured by how many contour levels lie below its J (J − J* = ½·Δᵀ·H·Δ).
  function bands(map, ctx, steps) {
    const image = ctx.createImageData(map.canvas.width, map.canvas.height);
    const { w, b } = map.surface.least_squares;
    for (let py = 0; py < image.height; py++) {
      for (let px = 0; px < image.width; px++) {
        const [x, y] = [px / map.ratio, py / map.ratio];
        const at = 4 * (py * image.width + px);
        image.data[at + 3] = 255;
        if (!map.inside(x, y)) {
          image.data.fill(255, at, at + 3);
          continue;
        }
        const [pw, pb] = map.fromPixel(x, y);
        const e = descent.excess(map.surface.hessian, pw - w, pb - b);
        const above = steps.findIndex((level) => level > e); // the first contour above J
        const t = (above < 0 ? LEVELS : above) / LEVELS;
        for (let c = 0; c < 3; c++) image.data[at + c] = LOW[c] + t * (HIGH[c] - LOW[c]);
      }
    }
    return image;
  }

  function clipToArea(ctx, area) {
    ctx.save();
    ctx.beginPath();
    ctx.rect(area.left, area.top, area.width, area.height);
    ctx.clip();
  }

  function polyline(ctx, map, points) {
    ctx.beginPath();
    points.forEach(([w, b], i) => {
      const [px, py] = map.toPixel(w, b);
      if (i === 0) ctx.moveTo(px, py);
      else ctx.lineTo(px, py);
    });
    ctx.stroke();
  }

  // A frame, a tick at every whole number of w and b, and the axes' names.
  function drawAxes(ctx, map) {
    const { area, surface } = map;
    ctx.strokeStyle = "#6b7280";
    ctx.fillStyle = "#374151";
    ctx.font = "12px system-ui, sans-serif";
    ctx.strokeRect(area.left, area.top, area.width, area.height);
    ctx.textAlign = "center";
    for (let w = Math.ceil(surface.window.w[0]); w <= surface.window.w[1]; w++) {
      const [px] = map.toPixel(w, 0);
      ctx.fillText(String(w), px, area.top + area.height + 15);
    }
    ctx.fillText("w (the slope)", area.left + area.width / 2, area.top + area.height + 33);
    ctx.textAlign = "right";
    for (let b = Math.ceil(surface.window.b[0]); b <= surface.window.b[1]; b++) {
      const [, py] = map.toPixel(0, b);
      ctx.fillText(String(b), area.left - 6, py + 4);
    }
    ctx.save();
    ctx.translate(14, area.top + area.height / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = "center";
    ctx.fillText("b (the intercept)", 0, 0);
    ctx.restore();
  }

  // The surface, then the walk: its path, the start ●, where it is now, least squares ★.
  function drawMap(map, walk, start) {
    const ctx = map.canvas.getContext("2d");
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.drawImage(map.background, 0, 0);
    ctx.scale(map.ratio, map.ratio);
    clipToArea(ctx, map.area);
    const few = walk.points.length <= 200; // a long walk (stochastic descent): a thinner line
    ctx.strokeStyle = "#ea580c";
    ctx.lineWidth = few ? 1.6 : 0.7;
    polyline(ctx, map, walk.points);
    if (few) walk.points.forEach(([w, b]) => dot(ctx, map, w, b, 2.2, "#ea580c"));
    const { w, b } = map.surface.least_squares;
    star(ctx, map, w, b, 10, "#b91c1c");
    dot(ctx, map, start[0], start[1], 5, "#111827");
    const [nw, nb] = walk.points[walk.points.length - 1];
    dot(ctx, map, nw, nb, 4.5, "#ea580c");
    ctx.restore();
    if (walk.divergedAt !== null) flyAway(ctx, map, walk);
  }

  function dot(ctx, map, w, b, radius, colour) {
    const [px, py] = map.toPixel(w, b);
    ctx.fillStyle = colour;
    ctx.beginPath();
    ctx.arc(px, py, radius, 0, 2 * Math.PI);
    ctx.fill();
  }

  // A five-pointed star (least squares), with a white rim so it shows on the path too.
  function star(ctx, map, w, b, radius, colour) {
    const [px, py] = map.toPixel(w, b);
    ctx.beginPath();
    for (let k = 0; k < 10; k++) {
      const r = k % 2 === 0 ? radius : radius * 0.45;
      const angle = -Math.PI / 2 + (k * Math.PI) / 5;
      ctx.lineTo(px + r * Math.cos(angle), py + r * Math.sin(angle));
    }
    ctx.closePath();
    ctx.fillStyle = colour;
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = 1.5;
    ctx.fill();
    ctx.stroke();
  }

  // A diverged walk: say so on the map, where its path leaves the view (or where it stopped).
  function flyAway(ctx, map, walk) {
    const { area } = map;
    const [w, b] = walk.points[walk.points.length - 1];
    const [px, py] = map.toPixel(w, b);
    const text = `diverged at step ${walk.divergedAt}`;
    ctx.font = "bold 13px system-ui, sans-serif";
    const half = ctx.measureText(text).width / 2 + 6;
    const x = Math.min(Math.max(px, area.left + half), area.left + area.width - half);
    const y = Math.min(Math.max(py, area.top + 22), area.top + area.height - 10);
    ctx.fillStyle = "rgba(255, 255, 255, 0.85)";
    ctx.fillRect(x - half, y - 15, 2 * half, 21);
    ctx.textAlign = "center";
    ctx.fillStyle = "#b91c1c";
    ctx.fillText(text, x, y);
  }

  // J after each update, on a log scale, with the least-squares J* as a dashed line.
  function lossChart(canvas) {
    const series = (label, color, dash) => ({
      label, data: [], borderColor: color, backgroundColor: color, borderDash: dash,
      borderWidth: 1.5, pointRadius: 0,
    });
    const J = series("J(w, b)", "#ea580c", []);
    const best = series("least squares J*", "#b91c1c", [5, 4]);
    return new Chart(canvas, {
      type: "line",
      data: { datasets: [J, best] },
      options: {
        parsing: false,
        normalized: true,
        scales: {
          x: { type: "linear", min: 0, title: { display: true, text: "update" } },
          y: {
            type: "logarithmic",
            title: { display: true, text: "J, log scale" },
            ticks: { callback: decade },
          },
        },
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 12 } },
          // A long walk (20,000 stochastic updates) is drawn from the lowest and highest J of
          // each pixel column: the same picture, a tenth of the drawing.
          decimation: { enabled: true, algorithm: "min-max" },
        },
      },
    });
  }

  // Label only the powers of ten of the log axis: 0.01, 0.1, 1, 10, ...
  function decade(value) {
    const e = Math.log10(value);
    return Math.abs(e - Math.round(e)) < 1e-9 ? String(Number(value.toPrecision(1))) : "";
  }

  // Add the walk's new losses to the chart. The chart keeps every (update, J) in walkPoints
  // (its dataset may hold a decimated copy); a new walk starts with clearChart.
  function updateChart(chart, losses, bestLoss) {
    const [J, best] = chart.data.datasets;
    const points = chart.walkPoints || (chart.walkPoints = []);
    for (let k = points.length; k < losses.length; k++) points.push({ x: k, y: losses[k] });
    J.data = points;
    best.data = [{ x: 0, y: bestLoss }, { x: Math.max(losses.length - 1, 1), y: bestLoss }];
    chart.update("none");
  }

  function clearChart(chart) {
    chart.walkPoints = [];
  }

  return { createMap, drawMap, levels, lossChart, updateChart, clearChart };
})();
