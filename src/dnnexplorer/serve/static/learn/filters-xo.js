// The page "How a filter works", part 3: the 3x3 world of "/", "\", X and O (chapter 13,
// `dnnx lesson xo-world`). Two 2x2 filters slide over the drawn image; their feature maps, the
// threshold (> 3), max pooling and the lesson's hand-designed fully connected layer follow each
// click. The arithmetic is filters-math.js's (window.filterWorld); this file only draws it.
"use strict";

const xoPage = (() => {
  const fw = filterWorld, { signed } = fwGrid;
  const FILTER_NAMES = ['"/" filter', '"\\" filter'];
  const POSITIONS = ["top-left", "top-right", "bottom-left", "bottom-right"];
  const state = {
    image: fw.XO_IMAGES[2], // the X
    filters: fw.XO_FILTERS,
    selected: [0, 0], // the feature-map position whose sum is written out
  };
  const $ = (id) => document.getElementById(id);
  const el = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  };
  let image, pipelines;

  // One row per filter: the filter -> its feature map -> the threshold -> pooling.
  function buildPipeline(f) {
    const row = el("div", "fw-pipeline");
    const figure = (caption, grid, extra) => {
      const fig = el("figure", "fw-figure");
      fig.append(grid, el("figcaption", "", caption));
      if (extra) fig.append(extra);
      return fig;
    };
    const [filterBox, inputs, mapBox, hitBox] = ["fw-grid", "fw-inputs", "fw-grid", "fw-grid"]
      .map((c) => el("div", c));
    filterBox.id = `xo-filter-${f}`;
    mapBox.id = `xo-map-${f}`;
    hitBox.id = `xo-detected-${f}`;
    const pooled = el("div", "fw-pooled");
    pooled.id = `xo-pooled-${f}`;
    const editor = fwGrid.filterEditor(filterBox, inputs, (v) => setFilter(f, v), FILTER_NAMES[f]);
    const mapCells = fwGrid.build(mapBox, 2, (r, c) => select(r, c), `${FILTER_NAMES[f]} map`);
    const hitCells = fwGrid.build(hitBox, 2, null, `${FILTER_NAMES[f]} detection`);
    row.append(
      figure(FILTER_NAMES[f], filterBox, inputs), el("div", "fw-arrow", "\u2192"),
      figure("feature map m", mapBox), el("div", "fw-arrow", "\u2192"),
      figure("threshold: m > 3", hitBox), el("div", "fw-arrow", "\u2192"),
      figure("max pooling: found anywhere?", pooled),
    );
    $("xo-filters").append(row);
    return { editor, mapCells, hitCells, pooled };
  }

  // ---- Feature maps, threshold, pooling ------------------------------------------------------
  function showMaps(maps, detected, pooled) {
    const limit = Math.max(4, ...maps.flat(2).map(Math.abs));
    const digits = fwGrid.digitsFor(state.filters);
    pipelines.forEach((p, f) => {
      p.editor.set(state.filters[f]);
      fwGrid.show(p.mapCells, maps[f], limit, digits);
      p.mapCells.flat().forEach((cell, k) => {
        const here = k === 2 * state.selected[0] + state.selected[1];
        cell.classList.toggle("fw-selected", here);
      });
      p.hitCells.forEach((row, r) => row.forEach((cell, c) => {
        cell.textContent = String(detected[f][r][c]);
        cell.dataset.value = String(detected[f][r][c]);
        cell.classList.toggle("fw-hit", detected[f][r][c] === 1);
      }));
      p.pooled.textContent = pooled[f] ? "yes (1)" : "no (0)";
      p.pooled.dataset.value = String(pooled[f]);
    });
  }

  // The sum behind the selected feature-map cell, for both filters, and its patch outlined.
  function showWindow(maps) {
    const [r, c] = state.selected;
    const patch = fw.patch(state.image, r, c);
    const digits = fwGrid.digitsFor(state.filters);
    image.cells.forEach((row, i) => row.forEach((cell, j) => {
      const inside = i >= r && i <= r + 1 && j >= c && j <= c + 1;
      cell.classList.toggle("fw-window-cell", inside);
    }));
    const lines = state.filters.map((filter, f) => {
      const terms = filter.flat().map((w, k) =>
        `(${signed(w, digits)})\u00b7(${signed(patch.flat()[k])})`);
      return `${FILTER_NAMES[f]}: m = ${terms.join(" + ")} = ${signed(maps[f][r][c], digits)}`;
    });
    $("xo-window").replaceChildren(
      el("div", "fw-label", `the ${POSITIONS[2 * r + c]} patch (outlined in the image):`),
      ...lines.map((text) => el("div", "fw-sum", text)),
    );
  }

  // ---- The fully connected layer --------------------------------------------------------------
  function showDense(d, z) {
    const { weight, bias } = fw.designDenseLayer();
    const head = el("tr");
    head.append(el("th", "", "character"));
    d.forEach((dj, j) => {
      const th = el("th", "num" + (dj ? " fw-on" : ""), `d${j + 1} = ${dj}`);
      th.title = `${FILTER_NAMES[Math.floor(j / 4)]}, ${POSITIONS[j % 4]}`;
      head.append(th);
    });
    head.append(el("th", "num", "bias b"), el("th", "", "z = W\u00b7d + b"));
    const rows = fw.CLASSES.map((name, k) => {
      const tr = el("tr");
      tr.append(el("td", "", `"${name}"`));
      weight[k].forEach((w, j) => tr.append(el("td", "num" + (d[j] ? " fw-on" : ""), signed(w))));
      const used = weight[k].filter((_, j) => d[j]).map((w) => `(${signed(w)})`);
      const sum = [...used, `(${signed(bias[k])})`].join(" + ") + ` = ${signed(z[k])}`;
      const zCell = el("td", "fw-z", sum);
      Object.assign(zCell, { id: `xo-z-${k}` }).dataset.value = String(z[k]);
      tr.append(el("td", "num", signed(bias[k])), zCell);
      return tr;
    });
    $("xo-dense").replaceChildren(el("thead"), el("tbody"));
    $("xo-dense").tHead.append(head);
    $("xo-dense").tBodies[0].append(...rows);
  }

  // The answer in words: the largest score, or "no idea" when the best scores tie.
  function showVerdict(z, pooled) {
    const { label, tied } = fw.answer(z);
    const best = signed(Math.max(...z));
    const names = tied.map((n) => `"${n}"`).join(" and ");
    const text = label === "no idea"
      ? `No idea: a tie between ${names} (z = ${best}).`
      : `The network reads "${label}" (z = ${best}, the largest score).`;
    $("xo-verdict").textContent = text;
    $("xo-verdict").dataset.label = label;
    $("xo-note").textContent = pooled[0] && pooled[1]
      ? "Both strokes are found somewhere: after pooling alone this image would look like X " +
        "and like O; the fully connected layer tells them apart by where the strokes are."
      : "";
  }

  // ---- Wiring ---------------------------------------------------------------------------------
  function render() {
    const maps = fw.featureMaps(state.image, state.filters);
    const detected = fw.detect(maps);
    const pooled = fw.pool(detected);
    const z = fw.logits(state.image, state.filters);
    image.set(state.image);
    showMaps(maps, detected, pooled);
    showWindow(maps);
    showDense(detected.flat(2), z);
    showVerdict(z, pooled);
  }

  function setImage(im) {
    state.image = im.map((row) => row.slice());
    render();
  }

  function setFilter(f, values) {
    state.filters = state.filters.map((old, k) => (k === f ? values.map((r) => r.slice()) : old));
    render();
  }

  function select(r, c) {
    state.selected = [r, c];
    render();
  }

  function presets() {
    const box = $("xo-presets");
    const named = [...fw.CLASSES.map((n, k) => [n, fw.XO_IMAGES[k]]),
      ["all paper", fw.XO_IMAGES[0].map((row) => row.map(() => -1))]];
    for (const [name, im] of named) {
      const button = el("button", "", name);
      Object.assign(button, { type: "button", id: `xo-preset-${box.children.length}` });
      button.addEventListener("click", () => setImage(im));
      box.append(button);
    }
  }

  function init() {
    image = fwGrid.imageEditor($("xo-image"), 3, setImage);
    pipelines = [0, 1].map(buildPipeline);
    presets();
    $("xo-lesson-filters").addEventListener("click", () => {
      state.filters = fw.XO_FILTERS;
      render();
    });
    $("xo-from-2x2").addEventListener("click", () => {
      const f = slashPage.getFilter();
      state.filters = [f, fw.negate(f)];
      render();
    });
    render();
  }

  document.addEventListener("DOMContentLoaded", init);
  return { state, setImage, setFilter, select };
})();
