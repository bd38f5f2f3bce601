// The dnnx lab: helpers shared by its pages. Plain browser JavaScript, no build step;
// charts come from the vendored Chart.js (window.Chart).
"use strict";

class LabError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

const lab = {
  // Call the lab's JSON API; a 4xx/5xx answer becomes a LabError carrying the server's message.
  async api(path, options = {}) {
    const response = await fetch(path, options);
    let body = null;
    try {
      body = await response.json();
    } catch (e) {
      body = null;
    }
    if (!response.ok) {
      const text = body && body.error ? body.error : `${response.status} ${response.statusText}`;
      throw new LabError(text, response.status);
    }
    return body;
  },

  postJson(path, data) {
    return lab.api(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(data),
    });
  },

  // /api/runs/NAME + suffix; a run name may hold '/' (dnnx ladder's runs/ladder/cnn-mnist).
  runUrl(name, suffix = "") {
    return "api/runs/" + name.split("/").map(encodeURIComponent).join("/") + suffix;
  },

  // el("td", {className: "num"}, "0.92") -> <td class="num">0.92</td>
  el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    Object.assign(node, props);
    for (const child of children) {
      if (child !== null && child !== undefined) {
        node.append(child instanceof Node ? child : String(child));
      }
    }
    return node;
  },

  // A row of small pictures with captions (weights, filters, feature maps, mistakes).
  showPictures(container, images, captions) {
    container.replaceChildren(
      ...images.map((src, i) => {
        const caption = lab.el("figcaption");
        const text = captions[i];
        if (text instanceof Node) caption.append(text);
        else caption.textContent = text;
        return lab.el("figure", {}, lab.el("img", { src, alt: caption.textContent }), caption);
      }),
    );
  },

  say(element, text, kind = "") {
    element.textContent = text;
    element.className = "message" + (kind ? " " + kind : "");
  },

  // What the loss chart shows. The slides' cross-entropy compares the probabilities with one-hot
  // targets; a recipe with label smoothing e trains against softened targets instead (the true
  // class 1 - e + e/K, every other class e/K), so its training loss never reaches 0. The test
  // loss is always the plain one-hot cross-entropy.
  lossTitle(config, classes = 10) {
    const e = config ? config.label_smoothing || 0 : 0;
    if (!(e > 0)) return "loss: cross-entropy with one-hot targets, as in the slides";
    const high = +(1 - e + e / classes).toFixed(4);
    const low = +(e / classes).toFixed(4);
    return (
      `loss: train = cross-entropy with label smoothing ${e} (targets ${high} for the true ` +
      `class, ${low} for the others, not one-hot); test = one-hot cross-entropy, as in the slides`
    );
  },

  percent(x, digits = 1) {
    return x === null || x === undefined ? "–" : (100 * x).toFixed(digits) + "%";
  },

  seconds(s) {
    if (s === null || s === undefined) return "–";
    return s < 90 ? s.toFixed(1) + " s" : (s / 60).toFixed(1) + " min";
  },

  // A line chart whose x axis is in epochs (1.5 = halfway through epoch 2).
  lineChart(canvas, yTitle, series, yMax = undefined) {
    return new Chart(canvas, {
      type: "line",
      data: {
        datasets: series.map((s) => ({
          label: s.label,
          data: [],
          borderColor: s.color,
          backgroundColor: s.color,
          borderDash: s.dash || [],
          borderWidth: s.width || 2,
          pointRadius: s.points || 0,
          tension: 0.2,
        })),
      },
      options: {
        parsing: false,
        normalized: true,
        scales: {
          x: { type: "linear", min: 0, title: { display: true, text: "epoch" } },
          y: { min: 0, max: yMax, title: { display: true, text: yTitle } },
        },
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
      },
    });
  },
};

// One look for every chart: no animation (live data arrives several times a second). Pages
// without charts do not load Chart.js, and can still use the helpers above.
if (window.Chart) {
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.font.family = getComputedStyle(document.documentElement).fontFamily;
}
