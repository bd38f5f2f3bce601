"""Standalone example scripts a learner can copy out of the project and run anywhere.

`mnist_plain.py` is the whole MNIST training in plain PyTorch (chapter 11 of the course). It
imports only the standard library, numpy and torch, never `dnnexplorer`, so it runs on its own
(`python examples/mnist_plain.py` from a checkout, where `examples/` links here). It lives inside
the package so that the `plain-pytorch` lesson and its tests can import the very same functions.
"""
