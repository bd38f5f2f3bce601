"""The errors a user can cause, and that the CLI turns into one-line messages.

Library code raises these instead of printing. Each message says what is wrong and where
(a file, a flag, a run folder), so that `dnnx` can print it as one line and exit with status 2.
"""


class DnnxError(Exception):
    """A problem the user can fix: bad input, missing data, a wrong flag."""


class DataError(DnnxError):
    """A dataset file is missing, damaged, or not what it claims to be."""


class ConfigError(DnnxError):
    """A setting (flag, config field, model option) is invalid."""


class RunError(DnnxError):
    """A run folder is missing, incomplete, or would be overwritten."""


class ImageError(DnnxError):
    """An image given to `predict` cannot be read or holds no digit."""


class TrainingDiverged(DnnxError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""
