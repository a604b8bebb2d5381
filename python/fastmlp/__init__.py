"""fastmlp: multilayer perceptrons trained fast on multi-core CPUs."""

from . import reference
from ._config import apply_isa_from_environment, config, show_config
from ._mlp import MLP
from ._plot import plot_loss_curve
from ._pruning import PruningReport
from .classifier import MLPClassifier
from .regressor import MLPRegressor

apply_isa_from_environment()

__version__ = "0.1.0"

__all__ = [
    "MLP",
    "MLPClassifier",
    "MLPRegressor",
    "PruningReport",
    "config",
    "plot_loss_curve",
    "reference",
    "show_config",
    "__version__",
]
