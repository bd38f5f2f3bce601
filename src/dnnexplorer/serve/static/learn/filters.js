// The page "How a filter works", parts 1 and 2: the 2x2 world of "/" and "\" (chapter 12,
// `dnnx lesson slash-world`). Draw an image, edit the filter, read the dot product written out
// and the filter's score on every image of the lesson; then let gradient descent move the
// filter, step by step. The arithmetic lives in filters-math.js (window.filterWorld); this file
// only draws it. All of it runs in the browser.
"use strict";

const slashPage = (() => {
  const fw = filterWorld, { signed } = fwGrid;
  const state = {
    image: fw.SLASH_IMAGES[0][1], // the clean "/"
    filter: fw.WORKSHOP_FILTER,
    run: null, // the animation of a gradient descent, while it plays
    steps: 0, // gradient descent steps since the filter was last set by hand
    losses: [], // the loss before each of those steps, for the chart
  };
  const $ = (id) => document.getElementById(id);
  let image, filter, tableRows;

  // ---- The dot product, written out ----------------------------------------------------------
  function showProducts() {
    const digits = fwGrid.digitsFor(state.filter);
    const f = state.filter.flat(), x = state.image.flat();
    const products = fw.overlay(state.filter, state.image).flat();
    const s = fw.score(state.filter, state.image);
    const terms = f.map((w, k) => `(${signed(w, digits)})\u00b7(${signed(x[k])})`).join(" + ");
    const sum = products.map((p) => `(${signed(p, digits)})`).join(" + ");
    $("slash-products").replaceChildren(
      line(`s = ${terms}`),
      line(`  = ${sum}`),
      line(`  = ${signed(s, digits)}`, "slash-score", s),
    );
    const says = fw.verdict(s);
    const sign = s > 0 ? "> 0" : s < 0 ? "< 0" : "= 0";
    $("slash-verdict").textContent =
      says === "no idea" ? `s ${sign}: "no idea"` : `s ${sign}: the filter says "${says}"`;
  }

  function line(text, id, value) {
    const div = document.createElement("div");
    div.textContent = text;
    if (id) Object.assign(div, { id }).dataset.value = String(value);
    return div;
  }

  // ---- The filter on every image of the lesson ----------------------------------------------
  function buildTable() {
    const body = $("slash-table").querySelector("tbody");
    tableRows = fw.SLASH_IMAGES.map(([name, im, label]) => {
      const button = document.createElement("button");
      Object.assign(button, { type: "button", className: "fw-preset", textContent: name });
      button.addEventListener("click", () => setImage(im));
      const mini = document.createElement("div");
      mini.className = "fw-grid fw-mini";
      fwGrid.show(fwGrid.build(mini, 2, null, name), im);
      const cells = ["", "", signed(label), "", "", ""].map((text) => {
        const td = document.createElement("td");
        td.textContent = text;
        return td;
      });
      cells[0].append(button);
      cells[1].append(mini);
      cells[2].className = cells[3].className = "num";
      const tr = document.createElement("tr");
      tr.append(...cells);
      body.append(tr);
      return { tr, cells, im, label };
    });
  }

  function showTable() {
    const digits = fwGrid.digitsFor(state.filter);
    let right = 0;
    for (const { tr, cells, im, label } of tableRows) {
      const s = fw.score(state.filter, im);
      const ok = label * s > 0; // as the lesson counts: the sign of the label; 0 is not right
      if (label !== 0 && ok) right += 1;
      cells[3].textContent = signed(s, digits);
      cells[3].dataset.value = String(s);
      cells[4].textContent = fw.verdict(s);
      cells[5].textContent = label === 0 ? "(neither)" : ok ? "yes" : "no";
      tr.classList.toggle("fw-wrong", label !== 0 && !ok);
      tr.classList.toggle("selected", String(im) === String(state.image));
    }
    $("slash-count").textContent =
      `Your filter gives ${right} of the 10 labelled images (clean, poorly drawn, incomplete) ` +
      `the sign of their label; the slides' filter gets all 10, and 0 on every bar.`;
  }

  // ---- Gradient descent, animated ------------------------------------------------------------
  function runDescent() {
    stop();
    const path = fw.descend(state.filter); // all 200 steps at once, then shown one per frame
    state.run = { path, t: 0 };
    $("descend-stop").disabled = false;
    const frame = () => {
      if (!state.run) return;
      state.run.t += 1;
      state.losses.push(path.losses[state.run.t - 1]);
      state.steps += 1;
      state.filter = path.filters[state.run.t];
      if (state.run.t < fw.GD_STEPS) state.run.frame = requestAnimationFrame(frame);
      else stop(); // the last step: the filter stays where descent left it
      render();
    };
    state.run.frame = requestAnimationFrame(frame);
  }

  function oneStep() {
    stop();
    const path = fw.descend(state.filter, 1);
    state.losses.push(path.losses[0]);
    state.steps += 1;
    state.filter = path.filters[1];
    render();
  }

  function stop() {
    if (state.run) cancelAnimationFrame(state.run.frame);
    state.run = null;
    $("descend-stop").disabled = true;
  }

  function showDescent() {
    const loss = fw.loss(state.filter);
    const status = $("descend-status");
    status.textContent =
      `step ${state.steps}` + (state.run ? ` of ${fw.GD_STEPS}` : "") +
      ` \u00b7 loss L(F) = ${loss.toFixed(4)}` +
      ` \u00b7 F = [[${state.filter[0].map((v) => signed(v, 2)).join(", ")}], ` +
      `[${state.filter[1].map((v) => signed(v, 2)).join(", ")}]]`;
    Object.assign(status.dataset, { steps: state.steps, loss, running: state.run ? 1 : 0 });
    drawChart($("descend-chart"), [...state.losses, loss]);
  }

  // The loss after each step as a line: x the step, y the loss from 0 to its largest value.
  function drawChart(svg, losses) {
    const [w, h, pad] = [600, 160, 28];
    const top = Math.max(...losses, 1e-9), last = Math.max(fw.GD_STEPS, losses.length - 1);
    const x = (t) => pad + ((w - 2 * pad) * t) / last;
    const y = (v) => h - pad + ((2 * pad - h) * v) / top;
    const points = losses.map((v, t) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    svg.replaceChildren(
      svgEl("line", { x1: pad, y1: h - pad, x2: w - pad, y2: h - pad, class: "fw-axis" }),
      svgEl("line", { x1: pad, y1: pad, x2: pad, y2: h - pad, class: "fw-axis" }),
      svgEl("polyline", { points, class: "fw-loss" }),
      svgText(pad + 4, pad - 8, `loss (top: ${top.toFixed(3)})`),
      svgText(w - pad - 80, h - 6, `step (0 to ${last})`),
    );
  }

  function svgEl(tag, attributes) {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, v);
    return node;
  }

  function svgText(x, y, text) {
    const node = svgEl("text", { x, y, class: "fw-axis-text" });
    node.textContent = text;
    return node;
  }

  // ---- Wiring ---------------------------------------------------------------------------------
  function render() {
    image.set(state.image);
    filter.set(state.filter);
    showProducts();
    showTable();
    showDescent();
  }

  function setImage(im) {
    state.image = im.map((row) => row.slice());
    render();
  }

  // A filter set by the learner (click, drag, typed, preset): the descent starts over from it.
  function setFilter(f) {
    stop();
    Object.assign(state, { filter: f.map((row) => row.slice()), steps: 0, losses: [] });
    render();
  }

  // Small random numbers, as the lesson's start (0.1 times a standard normal, Box-Muller).
  function smallRandom() {
    const normal = () => Math.sqrt(-2 * Math.log(1 - Math.random())) *
      Math.cos(2 * Math.PI * Math.random());
    return [[0, 0], [0, 0]].map((row) => row.map(() => Math.round(1000 * 0.1 * normal()) / 1000));
  }

  function init() {
    image = fwGrid.imageEditor($("slash-image"), 2, setImage);
    filter = fwGrid.filterEditor($("slash-filter"), $("slash-filter-inputs"), setFilter);
    buildTable();
    $("filter-workshop").addEventListener("click", () => setFilter(fw.WORKSHOP_FILTER));
    $("filter-negated").addEventListener("click", () => setFilter(fw.negate(fw.WORKSHOP_FILTER)));
    $("filter-zero").addEventListener("click", () => setFilter([[0, 0], [0, 0]]));
    $("filter-random").addEventListener("click", () => setFilter(smallRandom()));
    $("descend-run").addEventListener("click", runDescent);
    $("descend-step").addEventListener("click", oneStep);
    $("descend-stop").addEventListener("click", () => (stop(), render()));
    render();
  }

  document.addEventListener("DOMContentLoaded", init);
  return { state, setImage, setFilter, getFilter: () => state.filter };
})();
