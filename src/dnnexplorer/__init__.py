"""dnnexplorer: an introductory deep-learning workshop as real, tested software.

From least squares and gradient descent to softmax regression and LeNet-5 on MNIST,
each idea of the workshop is a small module you can read, run and change.
"""

__version__ = "0.1.0"
