// Grids of numbers drawn as cells, for the page "How a filter works": images (click a pixel to
// flip it between ink and paper), filters (click a cell to flip its sign to +1 or -1, drag it up
// or down for any value, or type one), feature maps. Shades follow the lessons' figures: the
// largest positive value black (ink), the most negative white (paper).
"use strict";

const fwGrid = (() => {
  const DRAG_PIXELS = 40; // dragging a filter cell up by 40 px adds 1 to its weight
  const LIMIT = 5; // filter weights stay in [-5, 5]

  // A number as the page writes it: "+1", "−1", "0", "+2.19" (a real minus sign).
  function signed(value, digits = 0) {
    const text = Math.abs(value).toFixed(digits);
    if (Number(text) === 0) return (0).toFixed(digits);
    return (value > 0 ? "+" : "\u2212") + text;
  }

  // Two decimals when any value is not a whole number, none otherwise.
  function digitsFor(values) {
    return values.flat(3).every((v) => Number.isInteger(v)) ? 0 : 2;
  }

  // Shade a cell on the scale [-limit, +limit]: -limit white (paper), +limit black (ink).
  function shade(cell, value, limit) {
    const t = Math.max(0, Math.min(1, (value / (limit || 1) + 1) / 2)); // 0 white .. 1 black
    const level = Math.round(255 * (1 - t));
    cell.style.backgroundColor = `rgb(${level}, ${level}, ${level})`;
    cell.style.color = t > 0.5 ? "#fff" : "#111";
  }

  // Build a size x size grid of cells in `container`; returns them as cells[r][c].
  function build(container, size, onCell, label) {
    container.replaceChildren();
    container.style.gridTemplateColumns = `repeat(${size}, 1fr)`;
    const cells = [];
    for (let r = 0; r < size; r++) {
      cells.push([]);
      for (let c = 0; c < size; c++) {
        // a cell that reacts to clicks is a button (keyboard too); the others only show
        const cell = document.createElement(onCell ? "button" : "div");
        if (onCell) cell.type = "button";
        cell.className = "fw-cell";
        cell.setAttribute("aria-label", `${label} row ${r + 1} column ${c + 1}`);
        if (onCell) cell.addEventListener("click", (e) => onCell(r, c, e));
        container.append(cell);
        cells[r].push(cell);
      }
    }
    return cells;
  }

  // Write `values` into the cells, shaded; each cell keeps its exact number in data-value.
  function show(cells, values, limit = 1, digits = digitsFor(values)) {
    cells.forEach((row, r) =>
      row.forEach((cell, c) => {
        cell.textContent = signed(values[r][c], digits);
        cell.dataset.value = String(values[r][c]);
        shade(cell, values[r][c], limit);
      }),
    );
  }

  // An image of +-1 pixels: a click flips a pixel; onChange(image) after each change.
  function imageEditor(container, size, onChange) {
    let image = Array.from({ length: size }, () => Array(size).fill(-1));
    const cells = build(container, size, (r, c) => {
      image = image.map((row) => row.slice());
      image[r][c] = -image[r][c];
      onChange(image);
    }, "pixel");
    return {
      cells,
      get: () => image,
      set(values) {
        image = values.map((row) => row.slice());
        show(cells, image, 1, 0);
      },
    };
  }

  // A 2x2 filter: click flips a weight's sign to +-1, a vertical drag sets any value, the
  // number fields below take a typed one. onChange(filter) after each change by the learner.
  function filterEditor(container, inputsBox, onChange, label = "filter") {
    let filter = [[0, 0], [0, 0]];
    let drag = null, dragged = false;
    const change = (r, c, value) => {
      filter = filter.map((row) => row.slice());
      filter[r][c] = Math.max(-LIMIT, Math.min(LIMIT, value));
      onChange(filter);
    };
    const cells = build(container, 2, (r, c) => {
      if (dragged) dragged = false; // the click that ends a drag changes nothing more
      else change(r, c, filter[r][c] > 0 ? -1 : 1);
    }, label);
    cells.flat().forEach((cell, k) => {
      const [r, c] = [Math.floor(k / 2), k % 2];
      cell.addEventListener("pointerdown", (e) => {
        drag = { y: e.clientY, value: filter[r][c], moved: false };
        dragged = false;
        cell.setPointerCapture(e.pointerId);
      });
      cell.addEventListener("pointermove", (e) => {
        if (!drag) return;
        const dy = drag.y - e.clientY;
        if (Math.abs(dy) > 3) drag.moved = true;
        if (drag.moved) change(r, c, Math.round((drag.value + dy / DRAG_PIXELS) * 100) / 100);
      });
      cell.addEventListener("pointerup", () => {
        dragged = drag !== null && drag.moved;
        drag = null;
      });
    });
    const inputs = numberInputs(inputsBox, label, (r, c, value) => change(r, c, value));
    return {
      cells,
      get: () => filter,
      set(values) {
        filter = values.map((row) => row.slice());
        show(cells, filter, Math.max(1, ...filter.flat().map(Math.abs)));
        inputs.forEach((input, k) => {
          const value = filter[Math.floor(k / 2)][k % 2];
          if (document.activeElement !== input || Number(input.value) !== value) {
            input.value = String(Math.round(value * 1e4) / 1e4);
          }
        });
      },
    };
  }

  // Four number fields, laid out as the filter; onValue(r, c, value) for each valid entry.
  function numberInputs(box, label, onValue) {
    if (!box) return [];
    box.replaceChildren();
    return [0, 1, 2, 3].map((k) => {
      const input = document.createElement("input");
      Object.assign(input, { type: "number", step: "0.1", min: -LIMIT, max: LIMIT });
      input.setAttribute("aria-label", `${label} weight ${k + 1}`);
      input.addEventListener("input", () => {
        const value = Number(input.value);
        if (input.value.trim() !== "" && Number.isFinite(value)) {
          onValue(Math.floor(k / 2), k % 2, value);
        }
      });
      box.append(input);
      return input;
    });
  }

  return { signed, digitsFor, shade, build, show, imageEditor, filterEditor };
})();
