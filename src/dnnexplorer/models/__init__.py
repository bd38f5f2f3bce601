"""The model ladder of the MNIST story: softmax regression -> MLP -> CNN -> LeNet-5 -> best.

Every model is built by name through the registry (`create_model("cnn")`), never by importing
its class. The family modules below register their models when imported; importing them here, in
one visible place and in the order of the story, is the only import-time side effect, and it
fixes the order of `list_models()`.
"""

from dnnexplorer.models.activations import (
    ACTIVATION_DERIVATIVES,
    ACTIVATION_FUNCTIONS,
    ACTIVATION_NAMES,
    Maxout,
    activation_width_factor,
    make_activation,
)
from dnnexplorer.models.registry import (
    DatasetRecipe,
    ModelEntry,
    Recipe,
    TunedRecipe,
    count_parameters,
    create_model,
    get_entry,
    list_models,
    register_model,
)

# isort: off
from dnnexplorer.models import softmax  # noqa: F401  Y = softmax(XW + b)
from dnnexplorer.models import mlp  # noqa: F401  hidden layers
from dnnexplorer.models import cnn  # noqa: F401  convolutions and pooling
from dnnexplorer.models import lenet  # noqa: F401  LeNet-5 (LeCun et al. 1998)
from dnnexplorer.models import best  # noqa: F401  batch norm, dropout, augmentation
# isort: on

__all__ = [
    "ACTIVATION_DERIVATIVES",
    "ACTIVATION_FUNCTIONS",
    "ACTIVATION_NAMES",
    "DatasetRecipe",
    "Maxout",
    "ModelEntry",
    "Recipe",
    "TunedRecipe",
    "activation_width_factor",
    "count_parameters",
    "create_model",
    "get_entry",
    "list_models",
    "make_activation",
    "register_model",
]
