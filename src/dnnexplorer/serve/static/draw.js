// Draw: a canvas the model reads while you draw. Each drawing goes to the server as a PNG, where
// the same preprocessing as `dnnx predict` turns it into the 28x28 image the model sees.
"use strict";

const pad = document.getElementById("pad");
const ink = pad.getContext("2d");
const runSelect = document.getElementById("run");
const message = document.getElementById("message");
const STROKE = 18; // pen width in canvas pixels: about a pen stroke on a 28x28 MNIST digit
const pen = { drawing: false, last: null, hasInk: false, busy: false, again: false };

const bars = new Chart(document.getElementById("probabilities"), {
  type: "bar",
  data: { labels: [], datasets: [{ label: "probability", data: [], backgroundColor: [] }] },
  options: {
    scales: { y: { min: 0, max: 1 } },
    plugins: { legend: { display: false } },
  },
});

function clearPad() {
  ink.fillStyle = "#fff";
  ink.fillRect(0, 0, pad.width, pad.height);
  pen.hasInk = false;
  document.getElementById("digit").textContent = "?";
  document.getElementById("confidence").textContent = "draw a digit";
  document.getElementById("seen").classList.add("hidden");
  document.getElementById("maps-box").classList.add("hidden");
  bars.data.datasets[0].data = [];
  bars.update();
  lab.say(message, "");
}

function canvasPoint(event) {
  const box = pad.getBoundingClientRect();
  return [
    ((event.clientX - box.left) * pad.width) / box.width,
    ((event.clientY - box.top) * pad.height) / box.height,
  ];
}

function strokeTo(point) {
  ink.strokeStyle = "#000";
  ink.lineWidth = STROKE;
  ink.lineCap = "round";
  ink.lineJoin = "round";
  ink.beginPath();
  ink.moveTo(...pen.last);
  ink.lineTo(...point);
  ink.stroke();
  pen.last = point;
}

function dot(point) {
  // A zero-length line draws nothing, so a click is a filled disc of the pen's width.
  ink.fillStyle = "#000";
  ink.beginPath();
  ink.arc(point[0], point[1], STROKE / 2, 0, 2 * Math.PI);
  ink.fill();
}

pad.addEventListener("pointerdown", (event) => {
  pad.setPointerCapture(event.pointerId);
  pen.drawing = true;
  pen.last = canvasPoint(event);
  dot(pen.last);
  pen.hasInk = true;
  schedulePrediction();
});
pad.addEventListener("pointermove", (event) => {
  if (!pen.drawing) return;
  strokeTo(canvasPoint(event));
  schedulePrediction();
});
for (const end of ["pointerup", "pointercancel"]) {
  pad.addEventListener(end, () => {
    pen.drawing = false;
    schedulePrediction();
  });
}

// One request at a time: strokes drawn meanwhile are sent as soon as the answer arrives.
function schedulePrediction() {
  if (!pen.hasInk || !runSelect.value) return;
  if (pen.busy) {
    pen.again = true;
    return;
  }
  sendDrawing();
}

async function sendDrawing() {
  pen.busy = true;
  pen.again = false;
  try {
    const png = await new Promise((resolve) => pad.toBlob(resolve, "image/png"));
    await predict(png);
  } finally {
    pen.busy = false;
    if (pen.again) schedulePrediction();
  }
}

async function predict(image) {
  try {
    const result = await lab.api(lab.runUrl(runSelect.value, "/predict"), {
      method: "POST",
      headers: { "Content-Type": image.type || "application/octet-stream" },
      body: image,
    });
    showPrediction(result);
    return true;
  } catch (error) {
    lab.say(message, error.message, "error");
    return false;
  }
}

function showPrediction(result) {
  const best = result.probabilities[result.digit];
  const digit = document.getElementById("digit");
  digit.textContent = result.label;
  digit.classList.toggle("long", result.label.length > 2);
  document.getElementById("confidence").textContent = `${lab.percent(best)} sure`;
  const seen = document.getElementById("seen");
  seen.src = result.input;
  seen.classList.remove("hidden");
  bars.data.labels = result.classes;
  bars.data.datasets[0].data = result.probabilities;
  bars.data.datasets[0].backgroundColor = result.probabilities.map((_, i) =>
    i === result.digit ? "#f59e0b" : "#93c5fd",
  );
  bars.update();
  const maps = result.feature_maps;
  document.getElementById("maps-box").classList.toggle("hidden", !maps);
  if (maps) {
    document.getElementById("maps-title").textContent =
      `first layer's feature maps (${maps.layer}: ${maps.images.length} filters' responses)`;
    lab.showPictures(document.getElementById("maps"), maps.images, maps.titles);
  }
  if (message.classList.contains("error")) lab.say(message, "");
}

async function loadRuns() {
  const runs = (await lab.api("api/runs")).filter((r) => r.has_weights);
  const wanted = new URLSearchParams(location.search).get("run");
  runSelect.replaceChildren(
    ...runs.map((r) =>
      lab.el(
        "option",
        { value: r.name, selected: r.name === wanted },
        `${r.name} (${r.model}, ${r.dataset}, ${lab.percent(r.test_accuracy)})`,
      ),
    ),
  );
  if (!runs.length) {
    lab.say(message, "No trained model yet: train one on the Train page, or with `dnnx train`.");
  }
}

runSelect.addEventListener("change", () => {
  lab.say(message, "");
  schedulePrediction();
});
document.getElementById("clear").addEventListener("click", clearPad);
document.getElementById("photo").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  if (!file || !runSelect.value) return;
  if (await predict(file)) lab.say(message, `prediction for the photo ${file.name}`, "ok");
});

// "see every layer": Inside a CNN opens the chosen run, with this drawing (kept for this tab).
const insideLink = document.getElementById("inside-link");
function updateInsideLink() {
  const run = runSelect.value;
  insideLink.href = run ? `learn/inside?run=${encodeURIComponent(run)}` : "learn/inside";
}
runSelect.addEventListener("change", updateInsideLink);
insideLink.addEventListener("click", () => {
  if (pen.hasInk) sessionStorage.setItem("dnnx-drawing", pad.toDataURL("image/png"));
});

clearPad();
loadRuns()
  .then(updateInsideLink)
  .catch((error) => lab.say(message, error.message, "error"));
