"""
Compiled core behind fastmlp.MLP; not a public interface.
"""
from __future__ import annotations
import collections.abc
import numpy
import numpy.typing
import typing
__all__: list[str] = ['Network32', 'Network64', 'active_isa', 'all_finite', 'best_isa', 'build_type', 'compiler', 'dropout_mask', 'kernel_config', 'matmul', 'max_threads', 'set_isa', 'shuffle_order']
class Network32:
    """
    A network and its optimizer state in one dtype.
    """
    def __init__(self, sizes: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], activation: str, output: str, seed: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def fit(self, X: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], Y: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], sample_weight: typing.Annotated[numpy.typing.ArrayLike, numpy.float32] | None, epochs: typing.SupportsInt | typing.SupportsIndex, batch_size: typing.SupportsInt | typing.SupportsIndex, optimizer: str, learning_rate: typing.Any, momentum: typing.SupportsFloat | typing.SupportsIndex, nesterov: bool, beta_1: typing.SupportsFloat | typing.SupportsIndex, beta_2: typing.SupportsFloat | typing.SupportsIndex, rho: typing.SupportsFloat | typing.SupportsIndex, epsilon: typing.SupportsFloat | typing.SupportsIndex, l1: typing.SupportsFloat | typing.SupportsIndex, l2: typing.SupportsFloat | typing.SupportsIndex, scale_penalty_by_batch: bool, dropout: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], shuffle: bool, callback: collections.abc.Callable | None, n_threads: typing.SupportsInt | typing.SupportsIndex) -> tuple:
        """
        Train by minibatch updates; return per-epoch losses and their penalty parts.
        """
    def flat_parameters(self) -> numpy.typing.NDArray[numpy.float64]:
        """
        Return the weights and biases as one float64 vector (per layer W, then b).
        """
    def forward(self, X: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], n_threads: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.float32]:
        """
        Return the output activations for X (n, n_in).
        """
    def forward_if_finite(self, X: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], n_threads: typing.SupportsInt | typing.SupportsIndex) -> typing.Any:
        """
        Return forward's outputs, or None when X contains a NaN or infinity.
        """
    def forward_with_path(self, X: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], path: str, n_threads: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.float32]:
        """
        Return forward's outputs with the product of pruned layers forced: 'auto' (by density), 'dense' or 'sparse'.
        """
    def get_keep_mask(self, layer: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.bool]:
        """
        Return the boolean keep-mask of one layer's weights.
        """
    def get_parameter(self, layer: typing.SupportsInt | typing.SupportsIndex, which: str) -> numpy.typing.NDArray[numpy.float32]:
        """
        Return a copy of one layer's parameter or optimizer state array.
        """
    def gradients(self, X: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], Y: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], sample_weight: typing.Annotated[numpy.typing.ArrayLike, numpy.float32] | None, masks: collections.abc.Sequence[typing.Annotated[numpy.typing.ArrayLike, numpy.bool] | None], dropout: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], n_threads: typing.SupportsInt | typing.SupportsIndex) -> tuple:
        """
        Return (mean data loss, dW list, db list) for one batch.
        """
    def has_state(self, optimizer: str) -> bool:
        """
        Return whether the state arrays of 'sgd', 'rmsprop' or 'adam' exist.
        """
    def hessian_diagonal(self, X: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], n_threads: typing.SupportsInt | typing.SupportsIndex) -> list:
        """
        Return the Gauss-Newton diagonal of the Hessian of the mean loss over X, one (n_out, n_in) array per layer.
        """
    def objective(self, theta: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], X: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], Y: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], sample_weight: typing.Annotated[numpy.typing.ArrayLike, numpy.float32] | None, l1: typing.SupportsFloat | typing.SupportsIndex, l2: typing.SupportsFloat | typing.SupportsIndex, n_threads: typing.SupportsInt | typing.SupportsIndex) -> tuple:
        """
        Set the parameters to theta; return the penalised loss and its flat gradient.
        """
    def set_keep_mask(self, layer: typing.SupportsInt | typing.SupportsIndex, keep: typing.Annotated[numpy.typing.ArrayLike, numpy.bool]) -> None:
        """
        Set the keep-mask of one layer's weights and zero the removed ones.
        """
    def set_parameter(self, layer: typing.SupportsInt | typing.SupportsIndex, which: str, value: typing.Annotated[numpy.typing.ArrayLike, numpy.float32]) -> None:
        """
        Copy an array into one layer's parameter or optimizer state.
        """
    @property
    def adam_step(self) -> int:
        """
        Adam updates taken so far: the t of its bias correction.
        """
    @adam_step.setter
    def adam_step(self, arg1: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def epoch(self) -> int:
        """
        Epochs trained so far; keys shuffling and dropout.
        """
    @epoch.setter
    def epoch(self, arg1: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def seed(self) -> int:
        ...
    @property
    def sizes(self) -> list[int]:
        ...
class Network64:
    """
    A network and its optimizer state in one dtype.
    """
    def __init__(self, sizes: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], activation: str, output: str, seed: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def fit(self, X: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], Y: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], sample_weight: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, epochs: typing.SupportsInt | typing.SupportsIndex, batch_size: typing.SupportsInt | typing.SupportsIndex, optimizer: str, learning_rate: typing.Any, momentum: typing.SupportsFloat | typing.SupportsIndex, nesterov: bool, beta_1: typing.SupportsFloat | typing.SupportsIndex, beta_2: typing.SupportsFloat | typing.SupportsIndex, rho: typing.SupportsFloat | typing.SupportsIndex, epsilon: typing.SupportsFloat | typing.SupportsIndex, l1: typing.SupportsFloat | typing.SupportsIndex, l2: typing.SupportsFloat | typing.SupportsIndex, scale_penalty_by_batch: bool, dropout: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], shuffle: bool, callback: collections.abc.Callable | None, n_threads: typing.SupportsInt | typing.SupportsIndex) -> tuple:
        """
        Train by minibatch updates; return per-epoch losses and their penalty parts.
        """
    def flat_parameters(self) -> numpy.typing.NDArray[numpy.float64]:
        """
        Return the weights and biases as one float64 vector (per layer W, then b).
        """
    def forward(self, X: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], n_threads: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.float64]:
        """
        Return the output activations for X (n, n_in).
        """
    def forward_if_finite(self, X: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], n_threads: typing.SupportsInt | typing.SupportsIndex) -> typing.Any:
        """
        Return forward's outputs, or None when X contains a NaN or infinity.
        """
    def forward_with_path(self, X: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], path: str, n_threads: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.float64]:
        """
        Return forward's outputs with the product of pruned layers forced: 'auto' (by density), 'dense' or 'sparse'.
        """
    def get_keep_mask(self, layer: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.bool]:
        """
        Return the boolean keep-mask of one layer's weights.
        """
    def get_parameter(self, layer: typing.SupportsInt | typing.SupportsIndex, which: str) -> numpy.typing.NDArray[numpy.float64]:
        """
        Return a copy of one layer's parameter or optimizer state array.
        """
    def gradients(self, X: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], Y: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], sample_weight: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, masks: collections.abc.Sequence[typing.Annotated[numpy.typing.ArrayLike, numpy.bool] | None], dropout: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], n_threads: typing.SupportsInt | typing.SupportsIndex) -> tuple:
        """
        Return (mean data loss, dW list, db list) for one batch.
        """
    def has_state(self, optimizer: str) -> bool:
        """
        Return whether the state arrays of 'sgd', 'rmsprop' or 'adam' exist.
        """
    def hessian_diagonal(self, X: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], n_threads: typing.SupportsInt | typing.SupportsIndex) -> list:
        """
        Return the Gauss-Newton diagonal of the Hessian of the mean loss over X, one (n_out, n_in) array per layer.
        """
    def objective(self, theta: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], X: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], Y: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], sample_weight: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, l1: typing.SupportsFloat | typing.SupportsIndex, l2: typing.SupportsFloat | typing.SupportsIndex, n_threads: typing.SupportsInt | typing.SupportsIndex) -> tuple:
        """
        Set the parameters to theta; return the penalised loss and its flat gradient.
        """
    def set_keep_mask(self, layer: typing.SupportsInt | typing.SupportsIndex, keep: typing.Annotated[numpy.typing.ArrayLike, numpy.bool]) -> None:
        """
        Set the keep-mask of one layer's weights and zero the removed ones.
        """
    def set_parameter(self, layer: typing.SupportsInt | typing.SupportsIndex, which: str, value: typing.Annotated[numpy.typing.ArrayLike, numpy.float64]) -> None:
        """
        Copy an array into one layer's parameter or optimizer state.
        """
    @property
    def adam_step(self) -> int:
        """
        Adam updates taken so far: the t of its bias correction.
        """
    @adam_step.setter
    def adam_step(self, arg1: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def epoch(self) -> int:
        """
        Epochs trained so far; keys shuffling and dropout.
        """
    @epoch.setter
    def epoch(self, arg1: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def seed(self) -> int:
        ...
    @property
    def sizes(self) -> list[int]:
        ...
def active_isa() -> str:
    """
    Return the instruction set of the GEMM kernels in use.
    """
@typing.overload
def all_finite(X: numpy.typing.NDArray[numpy.float32]) -> bool:
    """
    Return whether no value of a C-contiguous float32 array is NaN or infinite.
    """
@typing.overload
def all_finite(X: numpy.typing.NDArray[numpy.float64]) -> bool:
    """
    Return whether no value of a C-contiguous float64 array is NaN or infinite.
    """
def best_isa() -> str:
    """
    Return the best instruction set this CPU supports.
    """
def dropout_mask(seed: typing.SupportsInt | typing.SupportsIndex, epoch: typing.SupportsInt | typing.SupportsIndex, batch: typing.SupportsInt | typing.SupportsIndex, layer: typing.SupportsInt | typing.SupportsIndex, rows: typing.SupportsInt | typing.SupportsIndex, width: typing.SupportsInt | typing.SupportsIndex, p: typing.SupportsFloat | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.bool]:
    """
    Return the keep-mask fit draws for one layer input of one batch.
    """
def kernel_config(dtype: str) -> dict:
    """
    Return the active engine's micro-kernel tile and GEMM block limits.
    """
@typing.overload
def matmul(A: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], B: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], transpose_a: bool = False, transpose_b: bool = False, n_threads: typing.SupportsInt | typing.SupportsIndex = 0) -> numpy.typing.NDArray[numpy.float32]:
    """
    Return op(A) op(B) with fastmlp's GEMM, in float32.
    """
@typing.overload
def matmul(A: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], B: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], transpose_a: bool = False, transpose_b: bool = False, n_threads: typing.SupportsInt | typing.SupportsIndex = 0) -> numpy.typing.NDArray[numpy.float64]:
    """
    Return op(A) op(B) with fastmlp's GEMM, in float64.
    """
def max_threads() -> int:
    """
    Return OpenMP's current maximum thread count.
    """
def set_isa(name: str) -> None:
    """
    Select the GEMM kernels: 'portable', 'avx2' or 'avx512'.
    """
def shuffle_order(seed: typing.SupportsInt | typing.SupportsIndex, epoch: typing.SupportsInt | typing.SupportsIndex, n: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.int64]:
    """
    Return the sample order that fit uses in one epoch when shuffling.
    """
build_type: str = 'Release'
compiler: str = 'GNU 12.2.0'
