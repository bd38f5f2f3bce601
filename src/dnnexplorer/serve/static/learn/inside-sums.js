// Inside a CNN, the arithmetic. The server sends every layer's output (exact float32 numbers);
// these pure functions redo, for one clicked value, the small computation that produced it from
// the layer's input: a convolution's window sum, a pooling window, an activation, a batch
// normalization. They compute in float64 (JavaScript numbers), so they agree with PyTorch's
// float32 results up to float32 rounding. Tests and learners call them: insideSums.convWindow(...).
"use strict";

const insideSums = {
  // base64 of little-endian float32 bytes -> Float32Array: the server's numbers, bit for bit.
  decode(base64) {
    const text = atob(base64);
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return new Float32Array(bytes.buffer);
  },

  // values[c, i, j] of a (C, H, W) array stored row by row; null outside (the padding).
  at(values, shape, c, i, j) {
    const [, h, w] = shape;
    if (i < 0 || j < 0 || i >= h || j >= w) return null;
    return values[(c * h + i) * w + j];
  },

  // One output pixel (c, i, j) of a convolution, redone: for each input channel of the filter,
  // the k x k window of the input (zeros where it hangs over the border), the filter, their
  // products and the channel's sum; then the sum over channels plus the bias.
  convWindow(input, inShape, weight, weightShape, bias, params, c, i, j) {
    const [kh, kw] = params.kernel_size;
    const [sh, sw] = params.stride;
    const [ph, pw] = params.padding;
    const [dh, dw] = params.dilation;
    const perGroup = weightShape[1]; // input channels each filter sees
    const group = Math.floor(c / (params.out_channels / params.groups));
    const channels = [];
    let sum = 0;
    for (let g = 0; g < perGroup; g++) {
      const channel = group * perGroup + g;
      const cells = { window: [], filter: [], products: [], sum: 0, channel };
      for (let u = 0; u < kh; u++) {
        for (let v = 0; v < kw; v++) {
          const x = insideSums.at(
            input,
            inShape,
            channel,
            i * sh - ph + u * dh,
            j * sw - pw + v * dw,
          );
          const w = weight[((c * perGroup + g) * kh + u) * kw + v];
          const product = (x ?? 0) * w;
          cells.window.push(x);
          cells.filter.push(w);
          cells.products.push(product);
          cells.sum += product;
        }
      }
      channels.push(cells);
      sum += cells.sum;
    }
    const b = bias ? bias[c] : 0;
    return { channels, sum, bias: b, value: sum + b, size: [kh, kw] };
  },

  // One output pixel of max or average pooling: the window of its own input map.
  poolWindow(input, inShape, params, c, i, j) {
    const [kh, kw] = params.kernel_size;
    const [sh, sw] = params.stride;
    const [ph, pw] = params.padding;
    const window = [];
    for (let u = 0; u < kh; u++) {
      for (let v = 0; v < kw; v++)
        window.push(insideSums.at(input, inShape, c, i * sh - ph + u, j * sw - pw + v));
    }
    const inside = window.filter((x) => x !== null);
    // Average pooling divides by k*k: PyTorch counts the padding's zeros too.
    const mean = () => inside.reduce((a, b) => a + b, 0) / (kh * kw);
    const value = params.how === "max" ? Math.max(...inside) : mean();
    return { window, value, size: [kh, kw] };
  },

  // An elementwise activation f(x), with the project's constants (leaky slope, ELU alpha).
  activate(params, x) {
    switch (params.function) {
      case "relu":
        return Math.max(0, x);
      case "tanh":
        return Math.tanh(x);
      case "sigmoid":
        return 1 / (1 + Math.exp(-x));
      case "leaky_relu":
        return x > 0 ? x : params.slope * x;
      case "elu":
        return x > 0 ? x : params.alpha * Math.expm1(x);
      default:
        return NaN;
    }
  },

  // Maxout: output unit c is the max of its k pieces, inputs c*k ... c*k + k - 1.
  maxoutPieces(input, pieces, c, offset, stride) {
    const values = [];
    for (let p = 0; p < pieces; p++) values.push(input[(c * pieces + p) * stride + offset]);
    return { pieces: values, value: Math.max(...values) };
  },

  // Batch normalization at test time, with the running mean and variance of channel c.
  batchNorm(x, stats, c) {
    const scale = stats.gamma[c] / Math.sqrt(stats.var[c] + stats.eps);
    return { scale, value: (x - stats.mean[c]) * scale + stats.beta[c] };
  },

  // softmax(z)_i = e^(z_i) / sum_j e^(z_j), computed stably by subtracting max(z) first.
  softmax(logits) {
    const top = Math.max(...logits);
    const exps = Array.from(logits, (z) => Math.exp(z - top));
    const total = exps.reduce((a, b) => a + b, 0);
    return exps.map((e) => e / total);
  },

  // How far apart two results of the same sum may be: float32 keeps about 7 digits of the
  // largest terms, so the tolerance scales with the sum of the terms' sizes.
  tolerance(terms) {
    const size = terms.reduce((a, t) => a + Math.abs(t ?? 0), 0);
    return 1e-5 * size + 1e-6;
  },
};

window.insideSums = insideSums;
