// The 2-D playground, part 2 of 4: the network, its forward and backward passes, and SGD.
//
// A small multilayer perceptron in float64, written out by hand so you can read what PyTorch's
// autograd does for you. A batch of N examples is a matrix, one example per row (stored row by
// row in a Float64Array: A[n * width + i]), as in the slides' Y = f(X·W + b):
//   forward:   Z = A·Wᵀ + b, A' = f(Z) for each hidden layer; logits = A·Wᵀ + b; P = softmax
//   loss:      cross-entropy −ln p_y, or squared error ½ Σ (y_i − p_i)² against the one-hot y
//   backward:  the chain rule from the loss back to the first layer (chapter 7, backpropagation)
//   update:    w ← w − η ∂L/∂w, L the mean loss of the mini-batch (plain SGD, chapter 4)
// W is stored (outputs x inputs), as nn.Linear stores it. playground.py builds the same network
// in PyTorch; a test checks that both reach the same weights after many steps.
"use strict";

(() => {
  const { mulberry32, makePoints, miniBatches } = window.playground;
  const LEAKY_SLOPE = 0.1; // the workshop's leaky ReLU is max(0.1x, x)
  const ELU_ALPHA = 1.0;
  const sigmoid = (z) => 1 / (1 + Math.exp(-z));

  // Each elementwise activation f and its slope f'(z), as in src/dnnexplorer/models/activations.py.
  const ACTIVATION = {
    sigmoid: { f: sigmoid, slope: (z) => sigmoid(z) * (1 - sigmoid(z)) }, // at most 1/4
    tanh: { f: Math.tanh, slope: (z) => 1 - Math.tanh(z) ** 2 },
    relu: { f: (z) => Math.max(0, z), slope: (z) => (z > 0 ? 1 : 0) },
    leaky_relu: {
      f: (z) => (z > 0 ? z : LEAKY_SLOPE * z),
      slope: (z) => (z > 0 ? 1 : LEAKY_SLOPE),
    },
    elu: {
      f: (z) => (z > 0 ? z : ELU_ALPHA * Math.expm1(z)),
      slope: (z) => (z > 0 ? 1 : ELU_ALPHA * Math.exp(z)),
    },
  };

  // Random weights and biases for 2 inputs -> hidden layers -> `classes` logits. Each layer's
  // W then b, row by row, uniform in ±1/√inputs (nn.Linear's own range), from mulberry32(seed + 1).
  // A maxout layer computes k pieces per unit, so its W has k times as many rows.
  function createNetwork(settings) {
    const pieces = settings.activation === "maxout" ? settings.maxout_pieces : 1;
    const rng = mulberry32(settings.seed + 1);
    const widths = [...settings.hidden, settings.classes];
    let inputs = 2;
    const layers = widths.map((units, l) => {
      const outputs = l < widths.length - 1 ? units * pieces : units;
      const bound = 1 / Math.sqrt(inputs);
      const draw = (size) => Float64Array.from({ length: size }, () => bound * (2 * rng() - 1));
      const layer = { W: draw(outputs * inputs), b: draw(outputs), inputs, outputs, units };
      inputs = units;
      return layer;
    });
    return { layers, activation: settings.activation, pieces, classes: settings.classes };
  }

  // Points [[x1, x2], ...] as an (N x 2) matrix.
  const toMatrix = (xs) => Float64Array.from(xs.flat());

  // Z = A·Wᵀ + b: (N x inputs) -> (N x outputs).
  function linear(layer, A, N) {
    const { W, b, inputs, outputs } = layer;
    const Z = new Float64Array(N * outputs);
    for (let n = 0; n < N; n++) {
      const row = n * inputs; // example n's inputs start here
      for (let o = 0; o < outputs; o++) {
        const w = o * inputs; // unit o's weights start here
        let sum = b[o];
        for (let i = 0; i < inputs; i++) sum += A[row + i] * W[w + i];
        Z[n * outputs + o] = sum;
      }
    }
    return Z;
  }

  // A hidden layer's activation, (N x outputs) -> (N x units). Maxout keeps, for each unit c,
  // the largest of its k pieces z[c*k .. c*k+k-1] and remembers which won: the gradient flows
  // back only through the winner.
  function activate(net, layer, Z, N) {
    const { units, outputs } = layer;
    const A = new Float64Array(N * units);
    if (net.activation !== "maxout") {
      const f = ACTIVATION[net.activation].f;
      for (let j = 0; j < A.length; j++) A[j] = f(Z[j]);
      return { A, winners: null };
    }
    const k = net.pieces;
    const winners = new Int32Array(N * units);
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < units; c++) {
        let best = n * outputs + c * k;
        for (let j = best + 1; j < n * outputs + (c + 1) * k; j++) if (Z[j] > Z[best]) best = j;
        A[n * units + c] = Z[best];
        winners[n * units + c] = best;
      }
    }
    return { A, winners };
  }

  // N examples (an N x 2 matrix) through the network: every layer's input, Z and maxout winners
  // (for backward), the hidden activations (for the pictures) and the logits (N x classes).
  function forwardMatrix(net, X, N) {
    const cache = { inputs: [], zs: [], winners: [] };
    let A = X;
    net.layers.forEach((layer, l) => {
      cache.inputs.push(A);
      const Z = linear(layer, A, N);
      cache.zs.push(Z);
      if (l === net.layers.length - 1) {
        A = Z; // the last layer's Z are the logits: softmax comes with the loss
        return;
      }
      const out = activate(net, layer, Z, N);
      cache.winners.push(out.winners);
      A = out.A;
    });
    return { ...cache, hidden: cache.inputs.slice(1), logits: A };
  }

  // For the console: playground.forward(net, [[0.5, -0.5]]).logits
  const forward = (net, xs) => forwardMatrix(net, toMatrix(xs), xs.length);

  // P = softmax of each row of the logits (N x K), as e^(z − max) / Σ e^(z − max) so that no
  // exp overflows; also ln Σ e^z of each row, which cross-entropy needs.
  function softmax(logits, N) {
    const K = logits.length / N;
    const P = new Float64Array(N * K);
    const logSums = new Float64Array(N);
    for (let n = 0, row = 0; n < N; n++, row += K) {
      let top = -Infinity;
      for (let k = 0; k < K; k++) top = Math.max(top, logits[row + k]);
      let sum = 0;
      for (let k = 0; k < K; k++) sum += P[row + k] = Math.exp(logits[row + k] - top);
      for (let k = 0; k < K; k++) P[row + k] /= sum;
      logSums[n] = top + Math.log(sum);
    }
    return { P, logSums };
  }

  // The mean loss over N rows of logits and ∂(mean loss)/∂logits (N x K); y is one-hot, d = p − y.
  //   cross-entropy: −ln p_y = ln Σ e^z − z_y; its gradient is d (the slides' P − Y).
  //   squared error: ½ Σ (p_i − y_i)²; through softmax, ∂/∂z_j = p_j (d_j − Σ_i p_i d_i).
  function lossAndGradient(lossName, logits, labels, N) {
    const K = logits.length / N;
    const { P, logSums } = softmax(logits, N);
    const dLogits = new Float64Array(N * K);
    let total = 0;
    for (let n = 0, row = 0; n < N; n++, row += K) {
      const d = (j) => P[row + j] - (j === labels[n] ? 1 : 0);
      if (lossName === "cross-entropy") {
        total += logSums[n] - logits[row + labels[n]];
        for (let j = 0; j < K; j++) dLogits[row + j] = d(j) / N; // of the mean loss
        continue;
      }
      let squares = 0;
      let pd = 0; // Σ_i p_i d_i
      for (let i = 0; i < K; i++) {
        squares += d(i) * d(i);
        pd += P[row + i] * d(i);
      }
      total += 0.5 * squares;
      for (let j = 0; j < K; j++) dLogits[row + j] = (P[row + j] * (d(j) - pd)) / N;
    }
    return { loss: total / N, dLogits };
  }

  // Backpropagation: from ∂L/∂logits back to the first layer, one layer at a time. Each layer
  // gets its gradients from δ = ∂L/∂Z, then hands ∂L/∂A to the layer below.
  function backward(net, cache, dLogits, N) {
    const grads = [];
    let delta = dLogits;
    for (let l = net.layers.length - 1; l >= 0; l--) {
      grads[l] = layerGradients(net.layers[l], cache.inputs[l], delta, N);
      if (l > 0) delta = hiddenDelta(net, l - 1, backToInputs(net.layers[l], delta, N), cache);
    }
    return grads;
  }

  // ∂L/∂W = δᵀ·A (outputs x inputs) and ∂L/∂b = Σ_n δ, for δ (N x outputs), A (N x inputs).
  function layerGradients(layer, A, delta, N) {
    const { inputs, outputs } = layer;
    const dW = new Float64Array(outputs * inputs);
    const db = new Float64Array(outputs);
    for (let n = 0; n < N; n++) {
      for (let o = 0; o < outputs; o++) {
        const d = delta[n * outputs + o];
        if (d === 0) continue; // a maxout piece that lost, a relu that is off: nothing to add
        for (let i = 0; i < inputs; i++) dW[o * inputs + i] += d * A[n * inputs + i];
        db[o] += d;
      }
    }
    return { W: dW, b: db };
  }

  // ∂L/∂A = δ·W: (N x outputs)·(outputs x inputs) -> (N x inputs), for the layer below.
  function backToInputs(layer, delta, N) {
    const { W, inputs, outputs } = layer;
    const dA = new Float64Array(N * inputs);
    for (let n = 0; n < N; n++) {
      for (let o = 0; o < outputs; o++) {
        const d = delta[n * outputs + o];
        if (d === 0) continue;
        for (let i = 0; i < inputs; i++) dA[n * inputs + i] += d * W[o * inputs + i];
      }
    }
    return dA;
  }

  // ∂L/∂Z of hidden layer h: ∂L/∂A times f'(Z), or for maxout ∂L/∂A routed to each unit's
  // winning piece (the other pieces get 0).
  function hiddenDelta(net, h, dA, cache) {
    const Z = cache.zs[h];
    const dZ = new Float64Array(Z.length);
    if (net.activation === "maxout") {
      cache.winners[h].forEach((winner, j) => (dZ[winner] = dA[j]));
    } else {
      const slope = ACTIVATION[net.activation].slope;
      for (let j = 0; j < Z.length; j++) dZ[j] = dA[j] * slope(Z[j]);
    }
    return dZ;
  }

  // One step of SGD on the examples `batch` (indices into points): returns the batch's mean loss.
  function sgdStep(net, points, batch, lossName, learningRate) {
    const N = batch.length;
    const X = new Float64Array(N * 2); // the batch's rows of the points' matrix
    batch.forEach((i, n) => {
      X[2 * n] = points.X[2 * i];
      X[2 * n + 1] = points.X[2 * i + 1];
    });
    const labels = batch.map((i) => points.y[i]);
    const cache = forwardMatrix(net, X, N);
    const { loss, dLogits } = lossAndGradient(lossName, cache.logits, labels, N);
    const grads = backward(net, cache, dLogits, N);
    net.layers.forEach((layer, l) => {
      for (let i = 0; i < layer.W.length; i++) layer.W[i] -= learningRate * grads[l].W[i];
      for (let i = 0; i < layer.b.length; i++) layer.b[i] -= learningRate * grads[l].b[i];
    });
    return loss;
  }

  // Mean loss and accuracy (the largest logit is the label's) over a set of points {x, y}.
  function evaluate(net, points, lossName) {
    const N = points.y.length;
    const { logits } = forwardMatrix(net, points.X || toMatrix(points.x), N);
    const K = logits.length / N;
    let right = 0;
    for (let n = 0; n < N; n++) {
      let best = 0;
      for (let k = 1; k < K; k++) if (logits[n * K + k] > logits[n * K + best]) best = k;
      if (best === points.y[n]) right++;
    }
    return { loss: lossAndGradient(lossName, logits, points.y, N).loss, accuracy: right / N };
  }

  // Everything one training run needs: points (and their matrices), network, batch order, counters.
  function createTrainer(settings) {
    const data = makePoints(settings);
    for (const set of [data.train, data.test]) set.X = toMatrix(set.x);
    return {
      settings,
      data,
      net: createNetwork(settings),
      nextBatch: miniBatches(settings.points, settings.seed + 2),
      steps: 0,
      seen: 0, // examples seen: seen / points is the epoch
    };
  }

  function trainStep(trainer) {
    const s = trainer.settings;
    const batch = trainer.nextBatch(s.batch_size);
    const loss = sgdStep(trainer.net, trainer.data.train, batch, s.loss, s.learning_rate);
    trainer.steps += 1;
    trainer.seen += batch.length;
    return loss;
  }

  const weightsOf = (net) => net.layers.flatMap((l) => [Array.from(l.W), Array.from(l.b)]);
  const isFiniteNetwork = (net) =>
    net.layers.every((l) => l.W.every(Number.isFinite) && l.b.every(Number.isFinite));

  // `steps` steps from a fresh start, as playground.train(config, steps) does in PyTorch.
  function run(settings, steps) {
    const trainer = createTrainer(settings);
    const batchLosses = Array.from({ length: steps }, () => trainStep(trainer));
    const train = evaluate(trainer.net, trainer.data.train, settings.loss);
    const test = evaluate(trainer.net, trainer.data.test, settings.loss);
    return { weights: weightsOf(trainer.net), batchLosses, train, test };
  }

  // prettier-ignore
  Object.assign(window.playground, {
    createNetwork, toMatrix, forwardMatrix, forward, softmax, lossAndGradient, backward, sgdStep,
    evaluate, createTrainer, trainStep, weightsOf, isFiniteNetwork, run,
  });
})();
