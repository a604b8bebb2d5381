"""Pure-NumPy multilayer perceptron, the oracle the compiled core is tested against.

The functions follow the lecture notation, one function per step of training:
layer 0 is the input, ``W^(l)`` maps layer l-1 to layer l, and for a batch of n
samples stored as rows

    Z^(l) = A^(l-1) W^(l)T + b^(l),        A^(l) = phi(Z^(l)).

Shapes: ``X`` is (n, n_0), ``W^(l)`` is (n_l, n_{l-1}), ``b^(l)`` is (n_l,),
``Z^(l)`` and ``A^(l)`` are (n, n_l), and L is the number of weight layers. Python
lists count from 0, so ``W[l - 1]`` and ``b[l - 1]`` hold ``W^(l)`` and ``b^(l)``,
while ``Z[l]`` and ``A[l]`` hold layer l (``Z[0]`` is None and ``A[0]`` is the
input after dropout). Gradients carry a ``d`` prefix (``dZ``, ``dW``, ``db``).

Every function computes in the dtype of the arrays it is given (float32 or
float64), as the compiled core does. Hyperparameters are cast to that dtype, and
losses and penalties are summed in float64.
"""

import numpy as np

from ._validation import (
    as_matrix,
    as_parameter_list,
    as_targets,
    check_callback,
    check_dropout,
    check_epoch_masks,
    check_masks,
    check_network_settings,
    check_orders,
    check_path,
    check_sgd_options,
)

__all__ = [
    "MLP",
    "apply_dropout",
    "backward",
    "binary_cross_entropy",
    "cross_entropy",
    "forward",
    "hessian_diagonal",
    "identity",
    "identity_derivative",
    "logistic",
    "logistic_derivative",
    "loss",
    "obd_saliency",
    "output_delta",
    "output_second_derivative",
    "penalty",
    "relu",
    "relu_derivative",
    "sgd_step",
    "softmax",
    "squared_error",
    "tanh",
    "tanh_derivative",
]

FORMAT_VERSION = 1


# ---------------------------------------------------------------------------
# Activations and their derivatives
# ---------------------------------------------------------------------------


def identity(Z):
    """Return Z unchanged (a copy), the identity activation."""
    return Z.copy()


def logistic(Z):
    """Return the logistic sigmoid 1 / (1 + exp(-Z)), elementwise.

    Both branches exponentiate ``-|Z|``, so no value overflows: for z < 0 the
    equivalent form exp(z) / (1 + exp(z)) is used.
    """
    E = np.exp(-np.abs(Z))
    return np.where(Z >= 0, 1 / (1 + E), E / (1 + E))


def tanh(Z):
    """Return the hyperbolic tangent of Z, elementwise."""
    return np.tanh(Z)


def relu(Z):
    """Return max(Z, 0), elementwise."""
    return np.maximum(Z, 0)


def softmax(Z):
    """Return the softmax of each row of Z, shape (n, n_out).

    The row maximum is subtracted before exponentiating: the result is the same
    and the largest exponent is exp(0) = 1, so nothing overflows.
    """
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def identity_derivative(Z):
    """Return phi'(Z) = 1 for the identity activation."""
    return np.ones_like(Z)


def logistic_derivative(Z):
    """Return phi'(Z) = s (1 - s) with s = logistic(Z)."""
    S = logistic(Z)
    return S * (1 - S)


def tanh_derivative(Z):
    """Return phi'(Z) = 1 - tanh(Z)^2."""
    T = np.tanh(Z)
    return 1 - T * T


def relu_derivative(Z):
    """Return phi'(Z) = 1 where Z > 0, else 0, so relu'(0) is taken as 0."""
    return (Z > 0).astype(Z.dtype)


HIDDEN_ACTIVATIONS = {
    "identity": identity,
    "logistic": logistic,
    "tanh": tanh,
    "relu": relu,
}
DERIVATIVES = {
    "identity": identity_derivative,
    "logistic": logistic_derivative,
    "tanh": tanh_derivative,
    "relu": relu_derivative,
}
OUTPUT_ACTIVATIONS = {"softmax": softmax, "logistic": logistic, "identity": identity}


# ---------------------------------------------------------------------------
# Forward pass
# ---------------------------------------------------------------------------


def apply_dropout(A, mask, p):
    """Apply inverted dropout to the activations A of one layer.

    Parameters
    ----------
    A : ndarray of shape (n, n_l)
        Activations after phi (the input X for layer 0).
    mask : ndarray of bool, shape (n, n_l), or None
        True for the units that are kept. None keeps every unit unscaled.
    p : float
        Drop probability of the layer, in [0, 1).

    Returns
    -------
    ndarray of shape (n, n_l)
        ``A * mask / (1 - p)``: kept units are scaled so that the expected
        activation equals the one seen at inference, dropped units are 0.
    """
    if mask is None:
        return A
    scale = A.dtype.type(1.0 / (1.0 - p))
    return A * mask * scale


def forward(X, W, b, activation, output, masks=None, p=None):
    """Run the forward pass and keep every layer's Z and A for backpropagation.

    Parameters
    ----------
    X : ndarray of shape (n, n_0)
        Input batch, one sample a row.
    W, b : list of ndarray
        ``W[l - 1]`` of shape (n_l, n_{l-1}) and ``b[l - 1]`` of shape (n_l,)
        for l = 1..L.
    activation : {"identity", "logistic", "tanh", "relu"}
        phi of the hidden layers 1..L-1.
    output : {"softmax", "logistic", "identity"}
        phi of the output layer L.
    masks : list of (ndarray of bool or None), length L, optional
        Dropout keep-masks of layers 0..L-1, ``masks[l]`` of shape (n, n_l).
        None (the default) applies no dropout.
    p : list of float, length L, optional
        Drop probabilities of layers 0..L-1, used to scale the kept units.

    Returns
    -------
    Z : list of ndarray, length L + 1
        ``Z[l]`` of shape (n, n_l) for l = 1..L, and ``Z[0]`` is None.
    A : list of ndarray, length L + 1
        ``A[0]`` is X after dropout, ``A[l]`` for 0 < l < L is phi(Z[l]) after
        dropout, and ``A[L]`` is the output activation (never dropped).
    """
    L = len(W)
    if masks is None:
        masks, p = [None] * L, [0.0] * L
    phi = HIDDEN_ACTIVATIONS[activation]

    Z = [None]
    A = [apply_dropout(X, masks[0], p[0])]
    for l in range(1, L + 1):
        Z.append(A[l - 1] @ W[l - 1].T + b[l - 1])
        if l < L:
            A.append(apply_dropout(phi(Z[l]), masks[l], p[l]))
        else:
            A.append(OUTPUT_ACTIVATIONS[output](Z[l]))
    return Z, A


# ---------------------------------------------------------------------------
# Losses: each sample's loss sums over the output units, the batch loss is the
# mean over samples. All three are computed from the output Z, without clipping.
# ---------------------------------------------------------------------------


def cross_entropy(Z, Y):
    """Return the per-sample categorical cross-entropy of softmax(Z), shape (n,).

    ``-sum_k y_k log softmax(z)_k = logsumexp(z) - sum_k y_k z_k`` when each row
    of Y sums to 1. logsumexp subtracts the row maximum, so |z| = 1000 is fine.
    """
    z_max = Z.max(axis=1)
    logsumexp = z_max + np.log(np.exp(Z - z_max[:, None]).sum(axis=1))
    return logsumexp - (Y * Z).sum(axis=1)


def binary_cross_entropy(Z, Y):
    """Return the per-sample binary cross-entropy of logistic(Z), shape (n,).

    ``-y log s - (1 - y) log(1 - s)`` with s = logistic(z) equals
    ``max(z, 0) - y z + log1p(exp(-|z|))``, where exp(-|z|) <= 1 cannot overflow.
    """
    return (np.maximum(Z, 0) - Y * Z + np.log1p(np.exp(-np.abs(Z)))).sum(axis=1)


def squared_error(Z, Y):
    """Return the per-sample squared error 1/2 sum_k (y_k - z_k)^2, shape (n,)."""
    R = Y - Z
    return 0.5 * (R * R).sum(axis=1)


LOSSES = {
    "softmax": cross_entropy,
    "logistic": binary_cross_entropy,
    "identity": squared_error,
}


def loss(Z_out, Y, output):
    """Return the mean loss of a batch as a Python float.

    Parameters
    ----------
    Z_out : ndarray of shape (n, n_out)
        Output pre-activations Z^(L).
    Y : ndarray of shape (n, n_out)
        Targets.
    output : {"softmax", "logistic", "identity"}
        Output activation, which selects the paired loss (cross-entropy,
        binary cross-entropy, squared error).
    """
    per_sample = LOSSES[output](Z_out, Y)
    return float(per_sample.sum(dtype=np.float64) / Z_out.shape[0])


# ---------------------------------------------------------------------------
# Backward pass
# ---------------------------------------------------------------------------


def output_delta(A_out, Y):
    """Return dZ^(L), the gradient of the mean batch loss at the output Z.

    For each of the three output/loss pairs the gradient of one sample's loss at
    z is ``y_hat - y``, and dividing by n gives the gradient of the batch mean.
    It is formed without dL/dy_hat, so saturated outputs give finite gradients.

    Parameters
    ----------
    A_out : ndarray of shape (n, n_out)
        Output activations y_hat = A^(L).
    Y : ndarray of shape (n, n_out)
        Targets.
    """
    n = A_out.shape[0]
    return (A_out - Y) / A_out.dtype.type(n)


def backward(Z, A, W, dZ_out, activation, masks=None, p=None):
    """Backpropagate dZ^(L) and return the gradients of every layer.

    Parameters
    ----------
    Z, A : list of ndarray
        As returned by `forward` with the same masks.
    W : list of ndarray
        The weights used in the forward pass.
    dZ_out : ndarray of shape (n, n_L)
        Gradient at the output Z, from `output_delta`.
    activation : {"identity", "logistic", "tanh", "relu"}
        phi of the hidden layers.
    masks, p : list, optional
        The dropout masks and probabilities passed to `forward`.

    Returns
    -------
    dW, db : list of ndarray
        ``dW[l - 1] = dZ^(l)T A^(l-1)`` of shape (n_l, n_{l-1}) and
        ``db[l - 1]`` = column sums of dZ^(l), shape (n_l,), for l = 1..L.
    """
    L = len(W)
    if masks is None:
        masks, p = [None] * L, [0.0] * L
    phi_prime = DERIVATIVES[activation]

    dW, db = [None] * L, [None] * L
    dZ = dZ_out
    for l in range(L, 0, -1):
        dW[l - 1] = dZ.T @ A[l - 1]
        db[l - 1] = dZ.sum(axis=0)
        if l > 1:
            # A[l - 1] was dropped after phi, so the gradient passes the same
            # mask and scale, then phi' at the undropped Z.
            dA = apply_dropout(dZ @ W[l - 1], masks[l - 1], p[l - 1])
            dZ = dA * phi_prime(Z[l - 1])
    return dW, db


# ---------------------------------------------------------------------------
# Second derivatives for Optimal Brain Damage
# ---------------------------------------------------------------------------


def output_second_derivative(A_out, output):
    """Return d2E/dz^2 of one sample's loss E at each output z, shape (n, n_out).

    Softmax with cross-entropy: p (1 - p), the diagonal of the softmax
    Hessian diag(p) - p p^T. Logistic with binary cross-entropy: p (1 - p).
    Identity with squared error: 1. None of them depends on the targets.

    Parameters
    ----------
    A_out : ndarray of shape (n, n_out)
        Output activations y_hat = A^(L).
    output : {"softmax", "logistic", "identity"}
    """
    if output == "identity":
        return np.ones_like(A_out)
    return A_out * (1 - A_out)


def hessian_diagonal(X, W, b, activation, output):
    """Return the diagonal of the Hessian of the mean loss for every weight.

    This is the second backward pass of Optimal Brain Damage (LeCun, Denker
    and Solla, NIPS 1990). It keeps only the diagonal and drops the phi''
    terms, like that paper's Levenberg-Marquardt approximation. With
    ``S^(l) = d2E/dZ^(l)2`` for one sample's loss E:

        S^(L)    = output_second_derivative(A^(L))
        S^(l-1)  = phi'(Z^(l-1))^2 * (S^(l) (W^(l))^2)      (elementwise squares)
        H^(l)    = 1/n (S^(l))T (A^(l-1))^2

    so ``H^(l)[o, j]`` is the mean over samples of ``d2E/dz_o^2 a_j^2``. For
    a network without hidden layers this is the exact diagonal.

    Parameters
    ----------
    X : ndarray of shape (n, n_0)
    W, b : list of ndarray
        As in `forward`.
    activation : {"identity", "logistic", "tanh", "relu"}
    output : {"softmax", "logistic", "identity"}

    Returns
    -------
    list of ndarray
        ``H[l - 1]`` of shape (n_l, n_{l-1}), the shape of ``W[l - 1]``.
        Biases are not pruned, so their entries are not computed.
    """
    L = len(W)
    n = X.shape[0]
    phi_prime = DERIVATIVES[activation]
    Z, A = forward(X, W, b, activation, output)

    H = [None] * L
    S = output_second_derivative(A[L], output)
    for l in range(L, 0, -1):
        H[l - 1] = S.T @ (A[l - 1] * A[l - 1]) / A[l - 1].dtype.type(n)
        if l > 1:
            S = (S @ (W[l - 1] * W[l - 1])) * phi_prime(Z[l - 1]) ** 2
    return H


def obd_saliency(W, H):
    """Return the saliency h_kk w_k^2 / 2 of every weight, one array per layer.

    In Optimal Brain Damage's diagonal quadratic model of the loss, it is the
    loss increase caused by setting w_k to 0.
    """
    return [H_l * W_l * W_l / 2 for W_l, H_l in zip(W, H)]


# ---------------------------------------------------------------------------
# Penalties and the SGD update
# ---------------------------------------------------------------------------


def penalty(W, l1, l2):
    """Return l2/2 sum ||W^(l)||^2 + l1 sum ||W^(l)||_1 in float64 (no bias terms)."""
    total = 0.0
    for W_l in W:
        W_l = W_l.astype(np.float64)
        total += l2 / 2 * float((W_l * W_l).sum()) + l1 * float(np.abs(W_l).sum())
    return total


def _momentum_update(theta, g, v, learning_rate, momentum, nesterov):
    """Return (theta, v) after one step with gradient g: v = mu v - eta g."""
    v = momentum * v - learning_rate * g
    if nesterov:
        return theta + (momentum * v - learning_rate * g), v
    return theta + v, v


def sgd_step(
    W, b, dW, db, V_W, V_b, learning_rate, momentum=0.0, nesterov=False, l1=0.0, l2=0.0
):
    """Take one SGD step with momentum and L1/L2 penalties.

    The weight gradient is ``g = dW + l2 W + l1 sign(W)`` with sign(0) = 0. The
    velocity is ``v = mu v - eta g``, then ``W += v``, or with Nesterov momentum
    ``W += mu v - eta g``. Biases take the same step with ``g = db``: penalties
    never touch them. With ``momentum=0`` both forms are plain SGD.

    Parameters
    ----------
    W, b, dW, db : list of ndarray
        Parameters and data-loss gradients of every layer.
    V_W, V_b : list of ndarray
        Velocities, shaped like W and b (zeros before the first step).
    learning_rate, momentum, l1, l2 : float
        eta > 0, mu in [0, 1), and the penalty strengths (>= 0).
    nesterov : bool
        Use Nesterov momentum.

    Returns
    -------
    W, b, V_W, V_b : list of ndarray
        New arrays; the inputs are left unchanged.
    """
    cast = W[0].dtype.type
    eta, mu, l1, l2 = cast(learning_rate), cast(momentum), cast(l1), cast(l2)

    new_W, new_b, new_V_W, new_V_b = [], [], [], []
    for l in range(len(W)):
        g = dW[l] + l2 * W[l] + l1 * np.sign(W[l])
        W_l, V_W_l = _momentum_update(W[l], g, V_W[l], eta, mu, nesterov)
        b_l, V_b_l = _momentum_update(b[l], db[l], V_b[l], eta, mu, nesterov)
        new_W.append(W_l)
        new_b.append(b_l)
        new_V_W.append(V_W_l)
        new_V_b.append(V_b_l)
    return new_W, new_b, new_V_W, new_V_b


# ---------------------------------------------------------------------------
# Helpers of the model. Its arguments are checked by fastmlp._validation, which
# fastmlp.MLP uses too, so both models reject bad input with the same errors.
# ---------------------------------------------------------------------------


def _shapes(arrays):
    """Return the shape of each array."""
    return [array.shape for array in arrays]


def _read_only_copies(arrays):
    copies = []
    for array in arrays:
        copy = array.copy()
        copy.flags.writeable = False
        copies.append(copy)
    return copies


# ---------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------


class MLP:
    """Multilayer perceptron trained by minibatch SGD, written in plain NumPy.

    The same interface and math as ``fastmlp.MLP``, built from the step
    functions of this module. It does not reproduce the compiled generator:
    weights start from ``np.random.default_rng(seed)``, and shuffling and
    dropout masks come from ``np.random.default_rng([seed, epoch])``. Tests
    copy weights across and pass sample orders and masks explicitly.

    Parameters
    ----------
    sizes : sequence of int
        Widths of all layers, input and output included (at least two).
    activation : {"relu", "identity", "logistic", "tanh"}, default="relu"
        Hidden-layer activation. "sigmoid" is accepted for "logistic".
    output : {"softmax", "logistic", "identity"}, default="softmax"
        Output activation, paired with categorical cross-entropy, binary
        cross-entropy or squared error 1/2 (y - y_hat)^2.
    dtype : {"float32", "float64"}, default="float32"
        Dtype of the parameters and of every computation.
    seed : int in [0, 2**64), optional
        Seed of the generators. None draws one from the operating system,
        stored in ``seed``.
    n_threads : int, optional
        Accepted and stored for interface compatibility, without effect.

    Attributes
    ----------
    weights : list of ndarray
        Read-only copies, ``weights[l]`` of shape (sizes[l + 1], sizes[l]).
    biases : list of ndarray
        Read-only copies, ``biases[l]`` of shape (sizes[l + 1],).
    epoch : int
        Number of epochs trained so far, which keys shuffling and dropout.

    Examples
    --------
    >>> import numpy as np
    >>> from fastmlp.reference import MLP
    >>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    >>> net = MLP([2, 3, 1], activation="tanh", output="logistic", seed=0)
    >>> history = net.fit(X, [0, 1, 1, 0], epochs=3, batch_size=4)
    >>> len(history), net.epoch, net.forward(X).shape
    (3, 3, (4, 1))
    """

    def __init__(
        self,
        sizes,
        activation="relu",
        output="softmax",
        dtype="float32",
        seed=None,
        n_threads=None,
    ):
        (
            self._sizes,
            self._activation,
            self._output,
            self._dtype,
            self._seed,
            self._n_threads,
        ) = check_network_settings(sizes, activation, output, dtype, seed, n_threads)

        self._W, self._b = self._initial_parameters()
        self._V_W = [np.zeros_like(W_l) for W_l in self._W]
        self._V_b = [np.zeros_like(b_l) for b_l in self._b]
        self._epoch = 0

    def _initial_parameters(self):
        """Draw He (relu hidden layers) or Glorot uniform weights and zero biases."""
        rng = np.random.default_rng(self._seed)
        W, b = [], []
        L = len(self._sizes) - 1
        for l in range(L):
            n_in, n_out = self._sizes[l], self._sizes[l + 1]
            if self._activation == "relu" and l < L - 1:
                bound = np.sqrt(6.0 / n_in)
            else:
                bound = np.sqrt(6.0 / (n_in + n_out))
            # Drawn in float64 and then rounded, so both dtypes start alike.
            W.append(rng.uniform(-bound, bound, (n_out, n_in)).astype(self._dtype))
            b.append(np.zeros(n_out, dtype=self._dtype))
        return W, b

    def __repr__(self):
        return (
            f"MLP({list(self._sizes)!r}, activation={self._activation!r}, "
            f"output={self._output!r}, dtype={self._dtype.name!r}, seed={self._seed!r})"
        )

    # -- attributes ---------------------------------------------------------

    @property
    def sizes(self):
        """Layer widths, input and output included."""
        return self._sizes

    @property
    def activation(self):
        """Canonical name of the hidden-layer activation."""
        return self._activation

    @property
    def output(self):
        """Name of the output activation."""
        return self._output

    @property
    def dtype(self):
        """NumPy dtype of the parameters and computations."""
        return self._dtype

    @property
    def seed(self):
        """Seed of the generators."""
        return self._seed

    @property
    def n_threads(self):
        """Stored thread count (no effect in the reference)."""
        return self._n_threads

    @property
    def epoch(self):
        """Number of epochs trained so far."""
        return self._epoch

    @property
    def weights(self):
        """Fresh read-only copies of W^(1)..W^(L), shapes (sizes[l + 1], sizes[l])."""
        return _read_only_copies(self._W)

    @weights.setter
    def weights(self, values):
        self._W = as_parameter_list(values, _shapes(self._W), self._dtype, "weights")

    @property
    def biases(self):
        """Fresh read-only copies of b^(1)..b^(L), shapes (sizes[l + 1],)."""
        return _read_only_copies(self._b)

    @biases.setter
    def biases(self, values):
        self._b = as_parameter_list(values, _shapes(self._b), self._dtype, "biases")

    # -- computation --------------------------------------------------------

    def forward(self, X):
        """Return the output activations for X of shape (n, sizes[0]).

        Returns
        -------
        ndarray of shape (n, sizes[-1])
            Probabilities for softmax and logistic outputs, values for identity.
            Dropout is never applied.
        """
        X = self._input(X)
        _, A = forward(X, self._W, self._b, self._activation, self._output)
        return A[-1]

    def gradients(self, X, Y, dropout=None, masks=None):
        """Return the mean data loss and its gradients for one batch (no penalty).

        Parameters
        ----------
        X : array-like of shape (n, sizes[0])
        Y : array-like of shape (n, sizes[-1])
            Targets. 1-D of length n is accepted when sizes[-1] == 1, and for a
            softmax output 1-D integer class indices.
        dropout : float or sequence of float, optional
            One probability for every hidden layer, or len(sizes) - 1
            probabilities for the input layer and each hidden layer.
        masks : list of (ndarray of bool or None), optional
            Keep-masks, ``masks[l]`` of shape (n, sizes[l]), None for a layer
            that is not dropped. They need `dropout` for the scale 1 / (1 - p_l)
            of kept units. Without masks, layers with p > 0 get masks from
            ``np.random.default_rng([seed, epoch])``.

        Returns
        -------
        loss : float
        dW, db : list of ndarray
            Gradients with the shapes of `weights` and `biases`.
        """
        X = self._input(X)
        Y = self._targets(Y, X.shape[0])
        L = len(self._sizes) - 1
        p = None if dropout is None else check_dropout(dropout, L)
        if masks is not None:
            masks = check_masks(masks, X.shape[0], self._sizes, p)
        elif p is None:
            p = [0.0] * L
        elif any(p):
            rng = np.random.default_rng([self._seed, self._epoch])
            masks = self._draw_masks(rng, X.shape[0], p)
        batch_loss, dW, db = self._loss_and_gradients(X, Y, masks, p)
        return batch_loss, dW, db

    def hessian_diagonal(self, X, Y=None):
        """Return the diagonal of the Hessian of the mean loss over X per weight.

        See the function `hessian_diagonal` for the formulas. Y is checked when
        given but does not enter the result.

        Returns
        -------
        list of ndarray
            One array per layer, shaped like `weights`.
        """
        X = self._input(X)
        if Y is not None:
            self._targets(Y, X.shape[0])
        return hessian_diagonal(X, self._W, self._b, self._activation, self._output)

    def _input(self, X):
        return as_matrix(X, self._dtype, "X", n_features=self._sizes[0])

    def _targets(self, Y, n_samples):
        return as_targets(Y, n_samples, self._sizes[-1], self._output, self._dtype)

    def _loss_and_gradients(self, X, Y, masks, p):
        Z, A = forward(X, self._W, self._b, self._activation, self._output, masks, p)
        batch_loss = loss(Z[-1], Y, self._output)
        dZ_out = output_delta(A[-1], Y)
        dW, db = backward(Z, A, self._W, dZ_out, self._activation, masks, p)
        return batch_loss, dW, db

    def _draw_masks(self, rng, n_rows, p):
        """Draw keep-masks: each unit of layer l is kept with probability 1 - p[l]."""
        return [
            rng.random((n_rows, size)) >= p_l if p_l > 0 else None
            for size, p_l in zip(self._sizes, p)
        ]

    # -- training -----------------------------------------------------------

    def fit(
        self,
        X,
        Y,
        epochs=10,
        batch_size=32,
        learning_rate=0.1,
        momentum=0.0,
        nesterov=False,
        l1=0.0,
        l2=0.0,
        dropout=0.0,
        shuffle=True,
        callback=None,
        penalty_scaling="none",
        orders=None,
        masks=None,
    ):
        """Train by minibatch SGD and return the loss of each epoch.

        Parameters
        ----------
        X, Y : array-like
            As in `gradients`.
        epochs : int, default=10
            Number of passes over the data.
        batch_size : int, default=32
            Rows per batch. The last, partial batch is kept, and a value above
            n is clipped to n.
        learning_rate : float, default=0.1
            eta > 0.
        momentum : float, default=0.0
            mu in [0, 1).
        nesterov : bool, default=False
            Use Nesterov momentum.
        l1, l2 : float, default=0.0
            Penalty strengths of ``l2/2 ||W||^2 + l1 ||W||_1``. Biases are not
            penalised.
        dropout : float or sequence of float, default=0.0
            As in `gradients`.
        shuffle : bool, default=True
            Visit samples in a new random order each epoch. False keeps the
            order of X.
        callback : callable, optional
            ``callback(epoch, loss)`` after each epoch, epoch counting from 1
            within this call. Returning True stops training.
        penalty_scaling : {"none", "batch"}, default="none"
            "batch" divides both penalties by the rows of the current batch,
            in the gradient and in the history, as scikit-learn scales alpha.
        orders : list of array-like, optional
            One permutation of range(n) per epoch, overriding `shuffle`.
        masks : list of list, optional
            ``masks[epoch][batch]`` is a list like the masks of `gradients`
            for that batch. By default masks are drawn with NumPy.

        Returns
        -------
        list of float
            Per epoch: sum over batches of n_b (batch loss + penalty) / n,
            with the loss from the forward pass before that batch's update
            (dropout applied) and the penalty at the weights before it.
        """
        check_callback(callback)
        X = self._input(X)
        n = X.shape[0]
        Y = self._targets(Y, n)
        options = check_sgd_options(
            len(self._sizes) - 1,
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            momentum=momentum,
            nesterov=nesterov,
            l1=l1,
            l2=l2,
            dropout=dropout,
            shuffle=shuffle,
            penalty_scaling=penalty_scaling,
        )
        epochs = options["epochs"]
        batch_size = min(options["batch_size"], n)
        p = options["dropout"]
        if orders is not None:
            orders = check_orders(orders, epochs, n)
        if masks is not None:
            masks = check_epoch_masks(masks, epochs, n, batch_size, self._sizes, p)

        optimizer = {
            "learning_rate": options["learning_rate"],
            "momentum": options["momentum"],
            "nesterov": options["nesterov"],
        }
        penalties = {
            "l1": options["l1"],
            "l2": options["l2"],
            "penalty_scaling": options["penalty_scaling"],
        }
        history = []
        for epoch in range(epochs):
            rng = np.random.default_rng([self._seed, self._epoch])
            if orders is not None:
                order = orders[epoch]
            elif options["shuffle"]:
                order = rng.permutation(n)
            else:
                order = np.arange(n)
            epoch_masks = masks[epoch] if masks is not None else None

            batches = self._batches(order, batch_size, epoch_masks, rng, p)
            history.append(self._train_epoch(X, Y, batches, p, optimizer, penalties))
            self._epoch += 1
            if callback is not None and callback(epoch + 1, history[-1]) is True:
                break
        return history

    def _batches(self, order, batch_size, masks, rng, p):
        """Return (rows, masks) for each batch: consecutive slices of order."""
        batches = []
        for batch, start in enumerate(range(0, len(order), batch_size)):
            rows = order[start : start + batch_size]
            if masks is not None:
                batch_masks = masks[batch]
            elif any(p):
                batch_masks = self._draw_masks(rng, len(rows), p)
            else:
                batch_masks = None
            batches.append((rows, batch_masks))
        return batches

    def _train_epoch(self, X, Y, batches, p, optimizer, penalties):
        """Take one SGD step per batch and return the epoch's history value."""
        total = 0.0
        for rows, masks in batches:
            n_b = len(rows)
            scale = n_b if penalties["penalty_scaling"] == "batch" else 1
            l1, l2 = penalties["l1"] / scale, penalties["l2"] / scale

            # Loss and penalty are taken before this batch's update.
            batch_penalty = penalty(self._W, l1, l2)
            batch_loss, dW, db = self._loss_and_gradients(X[rows], Y[rows], masks, p)
            total += n_b * (batch_loss + batch_penalty)

            self._W, self._b, self._V_W, self._V_b = sgd_step(
                self._W,
                self._b,
                dW,
                db,
                self._V_W,
                self._V_b,
                l1=l1,
                l2=l2,
                **optimizer,
            )
        return total / len(X)

    # -- persistence --------------------------------------------------------

    def save(self, path):
        """Write settings, parameters, velocities and epoch to exactly `path` (.npz)."""
        check_path(path)
        arrays = {
            "format_version": np.int64(FORMAT_VERSION),
            "sizes": np.array(self._sizes, dtype=np.int64),
            "activation": np.array(self._activation),
            "output": np.array(self._output),
            "dtype": np.array(self._dtype.name),
            "seed": np.uint64(self._seed),
            # 0 stands for None: n_threads is otherwise positive.
            "n_threads": np.int64(self._n_threads or 0),
            "epoch": np.int64(self._epoch),
        }
        for l in range(len(self._W)):
            arrays[f"W{l}"] = self._W[l]
            arrays[f"b{l}"] = self._b[l]
            arrays[f"V_W{l}"] = self._V_W[l]
            arrays[f"V_b{l}"] = self._V_b[l]
        # A file object, because np.savez appends ".npz" to a path without it.
        with open(path, "wb") as file:
            np.savez(file, **arrays)

    @classmethod
    def load(cls, path):
        """Return the model stored by `save` at `path`."""
        check_path(path)
        with np.load(path, allow_pickle=False) as data:
            if "format_version" not in data.files:
                raise ValueError(
                    f"{path!r} is not a model written by MLP.save: it has no "
                    "format_version entry."
                )
            version = int(data["format_version"])
            if version != FORMAT_VERSION:
                raise ValueError(
                    f"{path!r} has format version {version}, but this fastmlp "
                    f"reads version {FORMAT_VERSION}."
                )
            n_threads = int(data["n_threads"])
            net = cls(
                [int(size) for size in data["sizes"]],
                activation=str(data["activation"]),
                output=str(data["output"]),
                dtype=str(data["dtype"]),
                seed=int(data["seed"]),
                n_threads=n_threads if n_threads > 0 else None,
            )
            L = len(net._sizes) - 1
            net.weights = [data[f"W{l}"] for l in range(L)]
            net.biases = [data[f"b{l}"] for l in range(L)]
            net._V_W = as_parameter_list(
                [data[f"V_W{l}"] for l in range(L)], _shapes(net._W), net._dtype, "V_W"
            )
            net._V_b = as_parameter_list(
                [data[f"V_b{l}"] for l in range(L)], _shapes(net._b), net._dtype, "V_b"
            )
            net._epoch = int(data["epoch"])
        return net
