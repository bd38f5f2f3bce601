"""The course map: every technical topic of the workshop's slides, in their order, and where the
project teaches it (chapter, notebook, command, web page).

The chapters follow the slides: the motivation (why deep learning, the data-driven approach), the
simplest machine learning (least squares, gradient descent), the neuron (perceptron, sigmoid,
activations), deep networks (backpropagation, unstable gradients), MNIST (softmax regression,
cross-entropy, a plain PyTorch script), and convolutional networks (the toy filter worlds, real
convolutions, LeNet-5). `docs/course.md` is written from this module (`dnnx course --markdown`),
and a test keeps the two equal, so the map is defined once.
"""

from __future__ import annotations

from dataclasses import dataclass

from dnnexplorer.course import chapter_names


@dataclass(frozen=True)
class Chapter:
    """A chapter: its notebook `notebooks/NN-name.ipynb`, its command and its web page."""

    name: str
    title: str
    command: str
    web: str = ""  # a page of the lab (`dnnx serve`) where the idea can be played with

    @property
    def number(self) -> int:
        return chapter_names().index(self.name) + 1

    @property
    def notebook(self) -> str:
        return f"notebooks/{self.number:02d}-{self.name}.ipynb"


@dataclass(frozen=True)
class Topic:
    """A topic of the slides (their heading), what the course shows of it, and where."""

    slides: str
    idea: str
    chapters: tuple[str, ...]


def _lesson(name: str, title: str, web: str = "") -> Chapter:
    return Chapter(name, title, f"dnnx lesson {name}", web)


DRAW, TRAIN = "Draw (`/`)", "Train (`/train`)"
FILTERS, PLAYGROUND = "Filters (`/learn/filters`)", "Playground (`/learn/playground`)"
DESCENT, INSIDE = "Descent (`/learn/descent`)", "Inside a CNN (`/learn/inside`)"

CHAPTERS: tuple[Chapter, ...] = (
    _lesson("why-deep", "Why deep learning? Accuracy grows with data and depth", TRAIN),
    _lesson("triangle", "A data-driven approach: can three lengths form a triangle?"),
    _lesson(
        "regression",
        "The simplest machine learning: least squares, under- and over-fitting",
        DESCENT,
    ),
    _lesson("gradient-descent", "Gradient descent: walking down the loss surface", DESCENT),
    _lesson("perceptron", "From the perceptron to the sigmoid neuron", PLAYGROUND),
    _lesson("activations", "Activation functions", PLAYGROUND),
    _lesson("backpropagation", "Backpropagation: the chain rule, one number at a time", PLAYGROUND),
    _lesson(
        "vanishing-gradients",
        "Why deep networks are hard to train: vanishing gradients",
        PLAYGROUND,
    ),
    _lesson("softmax-by-hand", "MNIST and softmax regression, by hand", TRAIN),
    _lesson("softmax-weights", "What softmax regression learns", TRAIN),
    _lesson("plain-pytorch", "The whole MNIST training in plain PyTorch", TRAIN),
    _lesson("slash-world", 'How a filter works: the 2x2 world of "/" and "\\"', FILTERS),
    _lesson("xo-world", "A 3x3 world: convolution, pooling and a fully connected layer", FILTERS),
    _lesson(
        "convolution",
        "Convolution on real digits: filters, shared weights, feature maps",
        f"{INSIDE}, {DRAW}",
    ),
    Chapter(
        "mnist-ladder",
        "Hidden layers, CNNs and LeNet-5: the MNIST ladder",
        "dnnx ladder",
        f"{TRAIN}, {INSIDE}",
    ),
)

# The slides' technical topics, in the slides' order. `slides` is the slides' own heading
# (or a phrase of it), so a test can check the order against their text. History,
# applications and frameworks, which the course does not compute, are left out.
TOPICS: tuple[Topic, ...] = (
    Topic(
        "Why Deep Learning?", "accuracy keeps growing with data for deep networks", ("why-deep",)
    ),
    Topic(
        "How to recognize a triangle?",
        "a rule written by hand vs one learned from examples",
        ("triangle",),
    ),
    Topic("Data-driven Approach", "learning from labelled examples", ("triangle",)),
    Topic(
        "Simplest Case of Machine Learning",
        "price vs size; training and test data",
        ("regression",),
    ),
    Topic(
        "Underfitting",
        "polynomials of degree 1, 3 and 15: under- and over-fitting",
        ("regression",),
    ),
    Topic(
        "Supervised Learning Algorithms",
        "k-nearest neighbours beside neural networks",
        ("why-deep",),
    ),
    Topic("Recall Least Square Method", "E = Σ(y − (wx + b))², ∂E/∂w = ∂E/∂b = 0", ("regression",)),
    Topic("To The Machine Learning Language", "cost function, weights and biases", ("regression",)),
    Topic(
        "Theory: Gradient Descent",
        "steps against the gradient; learning rate; local minima",
        ("gradient-descent",),
    ),
    Topic(
        "Mini-batch Gradient Descent",
        "batch, stochastic and mini-batch descent; epochs",
        ("regression", "gradient-descent"),
    ),
    Topic(
        "What is a Neural Network?",
        "the perceptron h(x) = sign(wᵀx + b); the bias is minus the threshold",
        ("perceptron",),
    ),
    Topic(
        "Perceptron To Neuron",
        "the sigmoid neuron: σ(z) = 1 / (1 + e^−z) instead of sign",
        ("perceptron",),
    ),
    Topic(
        "many other activation functions",
        "sigmoid, tanh, ReLU, leaky ReLU, ELU, maxout",
        ("activations",),
    ),
    Topic(
        "Network Of Neurons",
        "hidden layers; deep means more than one",
        ("perceptron", "mnist-ladder"),
    ),
    Topic(
        "Rise and Fall of Neural Networks",
        "XOR and Minsky & Papert; backpropagation",
        ("perceptron",),
    ),
    Topic(
        "How to Train DNN?",
        "backpropagation: the chain rule, checked against autograd",
        ("backpropagation",),
    ),
    Topic(
        "Vanishing gradient problem",
        "sigmoid's slope ≤ 1/4, multiplied layer after layer",
        ("vanishing-gradients",),
    ),
    Topic(
        "Exploding gradient problem",
        "gradients growing layer by layer; clipping",
        ("backpropagation",),
    ),
    Topic(
        "Introducing the MNIST problem",
        "60,000 + 10,000 images of 28x28 pixels",
        ("softmax-by-hand",),
    ),
    Topic(
        "less than 100 lines",
        "data, model, loss, optimizer, loop, test in one script",
        ("plain-pytorch",),
    ),
    Topic("Matrix = Tensor", "Y = softmax(X·W + b) as tensors", ("softmax-by-hand",)),
    Topic("The MNIST Data", "a digit as 28x28 numbers, scaled to 0..1", ("softmax-by-hand",)),
    Topic(
        "Result of the Flatten Operation",
        "the training images as a [60000, 784] matrix",
        ("softmax-by-hand",),
    ),
    Topic(
        "One-hot Vector", "one-hot vs integer labels: the same cross-entropy", ("softmax-by-hand",)
    ),
    Topic(
        "Softmax Regressions",
        "softmax turns ten scores into probabilities",
        ("softmax-by-hand", "softmax-weights"),
    ),
    Topic(
        "Softmax on a batch of images",
        "W [784, 10], b broadcast on all lines; W's columns as templates",
        ("softmax-by-hand", "softmax-weights"),
    ),
    Topic(
        "The Cross-Entropy Cost Function",
        "C = −Σ y′ log p; better than the quadratic cost",
        ("softmax-by-hand", "why-deep"),
    ),
    Topic(
        "How to implement the gradient descent for W",
        "∂C/∂W = Xᵀ(P − Y) / N, by hand and by autograd",
        ("softmax-by-hand",),
    ),
    Topic("Adding More Layers", "hidden layers: the MLP", ("mnist-ladder",)),
    Topic(
        "Why Using Fully Connected Layers?",
        "pixel order does not matter to an MLP",
        ("convolution",),
    ),
    Topic(
        "Convolution Neuron Network (CNN)",
        "a local weighted sum with shared weights",
        ("convolution",),
    ),
    Topic(
        "A simple example shows how CNN works",
        'the 2x2 world of "/" and "\\": a filter and its dot product',
        ("slash-world",),
    ),
    Topic(
        "How do we find this filter that works?",
        "all 16 filters, random search, gradient descent",
        ("slash-world",),
    ),
    Topic(
        "A slightly complex example",
        '3x3 images of "/", "\\", X and O: feature maps and pooling',
        ("xo-world",),
    ),
    Topic(
        "What about the fully connected layer?",
        "a dense layer reads the feature maps; filters learned by descent",
        ("xo-world",),
    ),
    Topic("How Does CNN Work?", "sliding a filter; stride, padding, output size", ("convolution",)),
    Topic(
        "Three basic ideas about CNN",
        "filter, shared weights, pooling; parameter counts",
        ("convolution",),
    ),
    Topic(
        "Pooling Layer",
        "max-pooling: is the feature anywhere in this region?",
        ("xo-world", "convolution"),
    ),
    Topic("Feature Maps", "every layer of a trained CNN on one digit", ("convolution",)),
    Topic(
        "A classical CNN example: LeNet",
        "LeNet-5 (LeCun et al. 1998), and where we depart",
        ("mnist-ladder",),
    ),
)


def chapter(name: str) -> Chapter:
    """The chapter called `name`."""
    return next(c for c in CHAPTERS if c.name == name)


def _md(text: str) -> str:
    """`text` for Markdown: a backslash (the "\\" character of the toy world) is escaped."""
    return text.replace("\\", "\\\\")


def course_markdown() -> str:
    """The course map as Markdown: the content of docs/course.md."""
    lines = [
        "# The course map",
        "",
        "<!-- Written by `dnnx course --markdown > docs/course.md`; edit",
        "     src/dnnexplorer/course/syllabus.py instead. -->",
        "",
        "The workshop *Introduction to Deep Learning: Exploring Deep Neural Networks, a",
        "Beginner's Guide* taught as 15 chapters, in the order of its slides. Each chapter is a",
        "notebook (open it with Jupyter: prose, formulas, figures, *Try it* cells and checked",
        "exercises) and a command that computes the same thing in a terminal and explains what",
        "it found.",
        "",
        "## Chapters",
        "",
        "| # | chapter | notebook | command | web lab |",
        "| ---: | --- | --- | --- | --- |",
    ]
    for c in CHAPTERS:
        lines.append(
            f"| {c.number} | {_md(c.title)} | [{c.notebook.split('/')[1]}](../{c.notebook}) "
            f"| `{c.command}` | {c.web or ''} |"
        )
    lines += [
        "",
        "## The slides' topics, in their order",
        "",
        "| slides | what the course shows | chapter |",
        "| --- | --- | --- |",
    ]
    for t in TOPICS:
        where = ", ".join(f"{chapter(n).number} `{n}`" for n in t.chapters)
        lines.append(f"| {_md(t.slides)} | {_md(t.idea)} | {where} |")
    lines += ["", WHERE_WE_DEPART, ""]
    return "\n".join(lines)


WHERE_WE_DEPART = """## Where the course departs from the slides, and why

- **Pixels.** The slides scale pixels to 0..1; `dnnx train` standardises them,
  (x/255 − 0.1307) / 0.3081, so that inputs are centred on 0, which trains faster. Chapter 9
  (`softmax-by-hand`) computes on the slides' 0..1 and explains the difference; chapter 11's
  plain PyTorch script standardises, as `dnnx train` does.
- **W's shape.** The slides' W is [784, 10]: one column per digit. PyTorch's `nn.Linear` stores
  its transpose, [10, 784], and computes X·Wᵀ + b; chapter 10 shows both.
- **Label smoothing.** The `mlp` and `best` recipes train against softened targets, not the
  slides' one-hot vectors (the `mlp`'s smoothing of 0.1 gives 0.91 for the true class and 0.01
  for each other class; `best` uses 0.05), so their training loss is not the slides'
  cross-entropy. The web lab says so above its loss chart; the test loss is always the one-hot
  cross-entropy.
- **Test-time augmentation.** The slides' network answers each image once. The recipes that
  `dnnx train --model best` tunes for a target (99.5% on MNIST, 93% on Fashion-MNIST), and its
  everyday recipe for Fashion-MNIST, answer with the mean of the network's log-probabilities
  over a few views of the image: the image and its four 1-pixel shifts for digits
  (`--option tta=shift`), the image and its mirror for clothes (`tta=flip`). It is the idea
  of training on shifted digits used once more at test time: a digit drawn a pixel off is still
  the same digit, and where the views disagree their average is more often right. It costs 5
  (or 2) forward passes per image, and no training.
- **Stacked convolutions.** The slides' networks (LeNet-5) pool after every convolution.
  `best`'s everyday recipe for Fashion-MNIST stacks two 3x3 convolutions before each of its
  last two poolings (`--option convs=[1,2,2]`), as VGG (2014) does: together they see a 5x5
  patch, with fewer weights than one 5x5 filter and a ReLU between them, so a pooled feature
  can be a more complex pattern. It costs 2.3x the multiply-adds and lifts clothes from
  93.56% to 93.93% (mean over 5 seeds, BENCHMARKS.md).
- **The bias.** The slides call b the perceptron's threshold; precisely, b is *minus* the
  threshold: Σ wᵢxᵢ > θ is the same as Σ wᵢxᵢ + b > 0 with b = −θ (chapter 5).
- **Optimizers.** The slides teach gradient descent; every model recipe of `dnnx train` uses
  Adam with a one-cycle learning-rate schedule, because it reaches the same accuracy in fewer
  epochs on a CPU (`--optimizer sgd --schedule constant` gives plain gradient descent). The
  chapters that train by hand (4, 9, 11) use plain gradient descent."""
