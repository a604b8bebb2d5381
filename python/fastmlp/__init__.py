"""fastmlp: multilayer perceptrons trained fast on multi-core CPUs."""

from . import reference
from ._mlp import MLP

__version__ = "0.1.0"

__all__ = ["MLP", "reference", "__version__"]
