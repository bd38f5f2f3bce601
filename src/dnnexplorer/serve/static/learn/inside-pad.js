// Inside a CNN, the drawing pad: the Draw page's pen (black ink on white, 18 pixels wide), the
// drawing as the bytes sent to the server, and a drawing handed over by the Draw page.
"use strict";

const insidePad = {
  canvas: document.getElementById("pad"),
  STROKE: 18, // pen width in canvas pixels, as on the Draw page
  hasInk: false,
  drawing: false, // a stroke is under way
  last: null, // the pen's last point
  onChange: null, // called with (ended) after each change: the page sends the new drawing

  ink() {
    return insidePad.canvas.getContext("2d", { willReadFrequently: true }); // read back often
  },

  clear() {
    const ink = insidePad.ink();
    ink.fillStyle = "#fff";
    ink.fillRect(0, 0, insidePad.canvas.width, insidePad.canvas.height);
    insidePad.hasInk = false;
  },

  point(event) {
    const box = insidePad.canvas.getBoundingClientRect();
    const { width, height } = insidePad.canvas;
    return [
      ((event.clientX - box.left) * width) / box.width,
      ((event.clientY - box.top) * height) / box.height,
    ];
  },

  // A stroke from the last point to this one; a click alone is a dot of the pen's width.
  penTo(point, start) {
    const ink = insidePad.ink();
    ink.fillStyle = ink.strokeStyle = "#000";
    ink.lineWidth = insidePad.STROKE;
    ink.lineCap = ink.lineJoin = "round";
    ink.beginPath();
    if (start) {
      ink.arc(point[0], point[1], insidePad.STROKE / 2, 0, 2 * Math.PI);
      ink.fill();
    } else {
      ink.moveTo(...insidePad.last);
      ink.lineTo(...point);
      ink.stroke();
    }
    insidePad.last = point;
  },

  // The drawing as an uncompressed grey image (PGM, which PIL reads): the same pixels as a PNG
  // of the canvas, without the PNG encoding (5-10 ms) on the way. The server prepares it
  // exactly as `dnnx predict` prepares a photo.
  asPgm() {
    const { width, height } = insidePad.canvas;
    const { data } = insidePad.ink().getImageData(0, 0, width, height);
    const grey = new Uint8Array(width * height);
    for (let n = 0; n < grey.length; n++) grey[n] = data[4 * n]; // black on white: R = G = B
    return new Blob([`P5\n${width} ${height}\n255\n`, grey], { type: "image/x-portable-graymap" });
  },

  // A drawing handed over by the Draw page's "see every layer" link (kept for this tab only).
  takeDrawingFromDrawPage() {
    const url = sessionStorage.getItem("dnnx-drawing");
    if (!url) return Promise.resolve();
    sessionStorage.removeItem("dnnx-drawing");
    return new Promise((done) => {
      const picture = new Image();
      picture.onload = () => {
        insidePad.ink().drawImage(picture, 0, 0, insidePad.canvas.width, insidePad.canvas.height);
        insidePad.hasInk = true;
        done();
      };
      picture.onerror = done;
      picture.src = url;
    });
  },

  changed(ended) {
    if (insidePad.onChange) insidePad.onChange(ended);
  },
};

insidePad.canvas.addEventListener("pointerdown", (event) => {
  insidePad.canvas.setPointerCapture(event.pointerId);
  insidePad.drawing = insidePad.hasInk = true;
  insidePad.penTo(insidePad.point(event), true);
  insidePad.changed(false);
});
insidePad.canvas.addEventListener("pointermove", (event) => {
  if (!insidePad.drawing) return;
  insidePad.penTo(insidePad.point(event), false);
  insidePad.changed(false);
});
for (const end of ["pointerup", "pointercancel"]) {
  insidePad.canvas.addEventListener(end, () => {
    if (!insidePad.drawing) return;
    insidePad.drawing = false;
    insidePad.changed(true); // the end of a stroke: the clock of the speed target starts here
  });
}

window.insidePad = insidePad;
