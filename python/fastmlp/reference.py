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

import math

import numpy as np

from ._lbfgs import fit_lbfgs, flatten, penalty_divisor, unflatten
from ._validation import (
    as_matrix,
    as_parameter_list,
    as_sample_weight,
    as_targets,
    check_callback,
    check_dropout,
    check_epoch_masks,
    check_fit_options,
    check_masks,
    check_network_settings,
    check_orders,
    check_path,
    check_scheduled_learning_rate,
)

__all__ = [
    "MLP",
    "adam_step",
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
    "rmsprop_step",
    "sgd_step",
    "softmax",
    "squared_error",
    "tanh",
    "tanh_derivative",
]

# Version 2 added the RMSprop and Adam state. Version 1 files still load.
FORMAT_VERSION = 2


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


def loss(Z_out, Y, output, sample_weight=None):
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
    sample_weight : ndarray of shape (n,), optional
        Weights s_i >= 0 with a positive sum. The mean becomes the weighted
        mean ``sum_i s_i l_i / sum_i s_i``, summed in float64.
    """
    per_sample = LOSSES[output](Z_out, Y).astype(np.float64)
    if sample_weight is None:
        return float(per_sample.sum() / Z_out.shape[0])
    s = sample_weight.astype(np.float64)
    # A row of weight 0 adds nothing, even where its loss overflowed.
    per_sample = np.where(s > 0, per_sample, 0.0)
    return float((s * per_sample).sum() / s.sum())


# ---------------------------------------------------------------------------
# Backward pass
# ---------------------------------------------------------------------------


def output_delta(A_out, Y, sample_weight=None):
    """Return dZ^(L), the gradient of the mean batch loss at the output Z.

    For each of the three output/loss pairs the gradient of one sample's loss at
    z is ``y_hat - y``, and dividing by n gives the gradient of the batch mean.
    It is formed without dL/dy_hat, so saturated outputs give finite gradients.
    With sample weights, row i is scaled by ``s_i / sum_j s_j`` in place of
    ``1 / n``, the gradient of the weighted mean.

    Parameters
    ----------
    A_out : ndarray of shape (n, n_out)
        Output activations y_hat = A^(L).
    Y : ndarray of shape (n, n_out)
        Targets.
    sample_weight : ndarray of shape (n,), optional
        Weights s_i >= 0 with a positive sum.
    """
    if sample_weight is None:
        n = A_out.shape[0]
        return (A_out - Y) / A_out.dtype.type(n)
    s = sample_weight.astype(np.float64)
    row_scale = (s / s.sum()).astype(A_out.dtype)
    return (A_out - Y) * row_scale[:, None]


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
# Penalties and the updates: SGD, RMSprop and Adam
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


def _penalised_gradient(W_l, dW_l, l1, l2):
    """Return the weight gradient with its penalty terms, dW + l2 W + l1 sign(W)."""
    return dW_l + l2 * W_l + l1 * np.sign(W_l)


def rmsprop_step(
    W, b, dW, db, S_W, S_b, learning_rate, rho=0.99, epsilon=1e-8, l1=0.0, l2=0.0
):
    """Take one RMSprop step with L1/L2 penalties, in PyTorch's form.

    With the weight gradient ``g = dW + l2 W + l1 sign(W)`` (``g = db`` for
    biases), the mean square is ``s = rho s + (1 - rho) g^2`` and the step
    ``W -= eta g / (sqrt(s) + epsilon)``. PyTorch calls rho ``alpha``.

    Parameters
    ----------
    W, b, dW, db : list of ndarray
        Parameters and data-loss gradients of every layer.
    S_W, S_b : list of ndarray
        Mean squares of the gradients, shaped like W and b (zeros before the
        first step).
    learning_rate, rho, epsilon, l1, l2 : float
        eta > 0, rho in [0, 1), epsilon > 0 and the penalty strengths (>= 0).

    Returns
    -------
    W, b, S_W, S_b : list of ndarray
        New arrays; the inputs are left unchanged.
    """
    cast = W[0].dtype.type
    eta, eps = cast(learning_rate), cast(epsilon)
    rho, one_minus_rho = cast(rho), cast(1 - rho)
    l1, l2 = cast(l1), cast(l2)

    def update(theta, g, s):
        s = rho * s + one_minus_rho * (g * g)
        return theta - eta * g / (np.sqrt(s) + eps), s

    new_W, new_b, new_S_W, new_S_b = [], [], [], []
    for l in range(len(W)):
        W_l, S_W_l = update(W[l], _penalised_gradient(W[l], dW[l], l1, l2), S_W[l])
        b_l, S_b_l = update(b[l], db[l], S_b[l])
        new_W.append(W_l)
        new_b.append(b_l)
        new_S_W.append(S_W_l)
        new_S_b.append(S_b_l)
    return new_W, new_b, new_S_W, new_S_b


def adam_step(
    W,
    b,
    dW,
    db,
    M_W,
    M_b,
    V_W,
    V_b,
    t,
    learning_rate,
    beta_1=0.9,
    beta_2=0.999,
    epsilon=1e-8,
    l1=0.0,
    l2=0.0,
):
    """Take Adam's step number t with L1/L2 penalties, in scikit-learn's form.

    With the weight gradient ``g = dW + l2 W + l1 sign(W)`` (``g = db`` for
    biases), the moments are ``m = beta_1 m + (1 - beta_1) g`` and
    ``v = beta_2 v + (1 - beta_2) g^2``. The bias correction is folded into
    the rate, ``eta_t = eta sqrt(1 - beta_2^t) / (1 - beta_1^t)``, computed in
    float64, and the step is ``W -= eta_t m / (sqrt(v) + epsilon)``. Unlike the
    paper's form, epsilon is added to the uncorrected root of v, as
    scikit-learn does. Everything else is computed in the dtype of W, as the
    compiled core does; scikit-learn 1.9.1 computes a float32 model's step in
    float64.

    Parameters
    ----------
    W, b, dW, db : list of ndarray
        Parameters and data-loss gradients of every layer.
    M_W, M_b, V_W, V_b : list of ndarray
        First and second moments, shaped like W and b (zeros before step 1).
    t : int
        Number of this step, counted from 1.
    learning_rate, beta_1, beta_2, epsilon, l1, l2 : float
        eta > 0, beta_1 and beta_2 in [0, 1), epsilon > 0 and the penalty
        strengths (>= 0).

    Returns
    -------
    W, b, M_W, M_b, V_W, V_b : list of ndarray
        New arrays; the inputs are left unchanged.
    """
    cast = W[0].dtype.type
    eta_t = cast(learning_rate * math.sqrt(1 - beta_2**t) / (1 - beta_1**t))
    eps = cast(epsilon)
    beta_1, one_minus_beta_1 = cast(beta_1), cast(1 - beta_1)
    beta_2, one_minus_beta_2 = cast(beta_2), cast(1 - beta_2)
    l1, l2 = cast(l1), cast(l2)

    def update(theta, g, m, v):
        m = beta_1 * m + one_minus_beta_1 * g
        v = beta_2 * v + one_minus_beta_2 * (g * g)
        return theta - eta_t * m / (np.sqrt(v) + eps), m, v

    new_W, new_b, new_M_W, new_M_b, new_V_W, new_V_b = [], [], [], [], [], []
    for l in range(len(W)):
        g = _penalised_gradient(W[l], dW[l], l1, l2)
        W_l, M_W_l, V_W_l = update(W[l], g, M_W[l], V_W[l])
        b_l, M_b_l, V_b_l = update(b[l], db[l], M_b[l], V_b[l])
        new_W.append(W_l)
        new_b.append(b_l)
        new_M_W.append(M_W_l)
        new_M_b.append(M_b_l)
        new_V_W.append(V_W_l)
        new_V_b.append(V_b_l)
    return new_W, new_b, new_M_W, new_M_b, new_V_W, new_V_b


def objective(net, X, Y, l1, l2, sample_weight=None):
    """Return the penalised loss of the whole data set and its flat gradient.

    ``E = mean loss + l2/2 ||W||^2 + l1 ||W||_1``, the function full-batch
    optimizers such as L-BFGS minimise. The gradient lists, layer by layer,
    ``dW + l2 W + l1 sign(W)`` row by row and then ``db``, in float64.
    """
    loss, dW, db = net.gradients(X, Y, sample_weight=sample_weight)
    loss += penalty(net.weights, l1, l2)
    weight_gradients = [
        dW_l + l2 * W_l + l1 * np.sign(W_l) for dW_l, W_l in zip(dW, net.weights)
    ]
    return loss, flatten(weight_gradients, db)


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
    """Multilayer perceptron trained by SGD, RMSprop or Adam, in plain NumPy.

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
        # Optimizer state, each array shaped like W or b: SGD's velocities V,
        # Adam's moments M and V with its step count t, RMSprop's mean squares S.
        self._V_W, self._V_b = self._zeros()
        self._adam_M_W, self._adam_M_b = self._zeros()
        self._adam_V_W, self._adam_V_b = self._zeros()
        self._adam_t = 0
        self._rmsprop_S_W, self._rmsprop_S_b = self._zeros()
        self._epoch = 0

    def _zeros(self):
        """Return zero arrays shaped like the weights and like the biases."""
        return [np.zeros_like(W_l) for W_l in self._W], [
            np.zeros_like(b_l) for b_l in self._b
        ]

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

    def gradients(self, X, Y, dropout=None, masks=None, sample_weight=None):
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
        sample_weight : array-like of shape (n,), optional
            Weights of the rows for the weighted mean loss, as in `loss` and
            `output_delta`: finite, >= 0 and not all zero.

        Returns
        -------
        loss : float
        dW, db : list of ndarray
            Gradients with the shapes of `weights` and `biases`.
        """
        X = self._input(X)
        Y = self._targets(Y, X.shape[0])
        weights = as_sample_weight(sample_weight, X.shape[0], self._dtype)
        L = len(self._sizes) - 1
        p = None if dropout is None else check_dropout(dropout, L)
        if masks is not None:
            masks = check_masks(masks, X.shape[0], self._sizes, p)
        elif p is None:
            p = [0.0] * L
        elif any(p):
            rng = np.random.default_rng([self._seed, self._epoch])
            masks = self._draw_masks(rng, X.shape[0], p)
        batch_loss, dW, db = self._loss_and_gradients(X, Y, masks, p, weights)
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

    def _loss_and_gradients(self, X, Y, masks, p, sample_weight=None):
        Z, A = forward(X, self._W, self._b, self._activation, self._output, masks, p)
        batch_loss = loss(Z[-1], Y, self._output, sample_weight)
        dZ_out = output_delta(A[-1], Y, sample_weight)
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
        optimizer="sgd",
        beta_1=0.9,
        beta_2=0.999,
        rho=0.99,
        epsilon=1e-8,
        sample_weight=None,
        tol=1e-4,
        max_fun=15000,
        orders=None,
        masks=None,
    ):
        """Train by minibatch SGD, RMSprop, Adam or L-BFGS; return the loss history.

        Parameters
        ----------
        X, Y : array-like
            As in `gradients`.
        epochs : int, default=10
            Number of passes over the data.
        batch_size : int, default=32
            Rows per batch. The last, partial batch is kept, and a value above
            n is clipped to n.
        learning_rate : float or callable, default=0.1
            eta > 0, or a schedule ``schedule(epoch) -> float`` called before
            each epoch (from 1 within this call) and checked like a constant.
        momentum : float, default=0.0
            mu in [0, 1), for optimizer="sgd" only.
        nesterov : bool, default=False
            Use Nesterov momentum (no effect without momentum).
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
            "batch" divides both penalties by the rows of the current batch
            (their sum of sample weights when given), in the gradient and in
            the history, as scikit-learn scales alpha.
        optimizer : {"sgd", "rmsprop", "adam"}, default="sgd"
            The update: `sgd_step`, `rmsprop_step` or `adam_step`. Each keeps
            its own state, which persists across calls.
        beta_1, beta_2 : float, default=0.9, 0.999
            Adam's decay rates, in [0, 1).
        rho : float, default=0.99
            RMSprop's decay rate, in [0, 1).
        epsilon : float, default=1e-8
            RMSprop's and Adam's epsilon, > 0.
        sample_weight : array-like of shape (n,), optional
            Row weights as in `gradients`, taken with their rows into each
            batch. A batch whose weights sum to 0 takes no step and is left out
            of the history.
        tol, max_fun : float, int, default=1e-4, 15000
            optimizer="lbfgs" only: SciPy's ``gtol`` and ``maxfun``. With
            "lbfgs" the whole data set is one batch, minimised by SciPy's
            L-BFGS-B through `objective`; ``epochs`` is the iteration limit and
            the history contains the objective after each iteration.
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
            (dropout applied) and the penalty at the weights before it. With
            sample weights, n counts only the rows of batches that took a step.
        """
        check_callback(callback)
        X = self._input(X)
        n = X.shape[0]
        Y = self._targets(Y, n)
        weights = as_sample_weight(sample_weight, n, self._dtype)
        options = check_fit_options(
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
            optimizer=optimizer,
            beta_1=beta_1,
            beta_2=beta_2,
            rho=rho,
            epsilon=epsilon,
            tol=tol,
            max_fun=max_fun,
        )
        if options["optimizer"] == "lbfgs":
            return self._fit_lbfgs(X, Y, weights, options, callback)
        epochs = options["epochs"]
        batch_size = min(options["batch_size"], n)
        p = options["dropout"]
        if orders is not None:
            orders = check_orders(orders, epochs, n)
        if masks is not None:
            masks = check_epoch_masks(masks, epochs, n, batch_size, self._sizes, p)

        optimizer = {
            name: options[name]
            for name in (
                "optimizer",
                "learning_rate",
                "momentum",
                "nesterov",
                "beta_1",
                "beta_2",
                "rho",
                "epsilon",
            )
        }
        penalties = {
            "l1": options["l1"],
            "l2": options["l2"],
            "penalty_scaling": options["penalty_scaling"],
        }
        history = []
        for epoch in range(epochs):
            if callable(options["learning_rate"]):
                rate = options["learning_rate"](epoch + 1)
                optimizer["learning_rate"] = check_scheduled_learning_rate(
                    rate, epoch + 1
                )
            rng = np.random.default_rng([self._seed, self._epoch])
            if orders is not None:
                order = orders[epoch]
            elif options["shuffle"]:
                order = rng.permutation(n)
            else:
                order = np.arange(n)
            epoch_masks = masks[epoch] if masks is not None else None

            batches = self._batches(order, batch_size, epoch_masks, rng, p)
            history.append(
                self._train_epoch(X, Y, weights, batches, p, optimizer, penalties)
            )
            self._epoch += 1
            if callback is not None and callback(epoch + 1, history[-1]) is True:
                break
        return history

    def _fit_lbfgs(self, X, Y, weights, options, callback):
        """Minimise `objective` over the whole data set with SciPy's L-BFGS-B."""
        divisor = penalty_divisor(options["penalty_scaling"], X.shape[0], weights)
        l1, l2 = options["l1"] / divisor, options["l2"] / divisor

        def flat_objective(theta):
            self.weights, self.biases = unflatten(theta, self._sizes)
            return objective(self, X, Y, l1, l2, weights)

        result = fit_lbfgs(
            flat_objective,
            flatten(self._W, self._b),
            max_iter=options["epochs"],
            max_fun=options["max_fun"],
            tol=options["tol"],
            callback=callback,
        )
        return result.history

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

    def _train_epoch(self, X, Y, weights, batches, p, optimizer, penalties):
        """Take one update step per batch and return the epoch's history value."""
        total, counted_rows = 0.0, 0
        for rows, masks in batches:
            n_b = len(rows)
            batch_weights = None if weights is None else weights[rows]
            if batch_weights is None:
                scale = n_b
            elif batch_weights.sum(dtype=np.float64) > 0:
                scale = float(batch_weights.sum(dtype=np.float64))
            else:
                continue  # no weight in this batch: no step
            if penalties["penalty_scaling"] == "none":
                scale = 1
            l1, l2 = penalties["l1"] / scale, penalties["l2"] / scale

            # Loss and penalty are taken before this batch's update.
            batch_penalty = penalty(self._W, l1, l2)
            batch_loss, dW, db = self._loss_and_gradients(
                X[rows], Y[rows], masks, p, batch_weights
            )
            total += n_b * (batch_loss + batch_penalty)
            counted_rows += n_b
            self._step(dW, db, optimizer, l1, l2)
        return total / counted_rows

    def _step(self, dW, db, options, l1, l2):
        """Update the parameters and the state of the optimizer in options."""
        eta = options["learning_rate"]
        if options["optimizer"] == "sgd":
            self._W, self._b, self._V_W, self._V_b = sgd_step(
                self._W,
                self._b,
                dW,
                db,
                self._V_W,
                self._V_b,
                eta,
                options["momentum"],
                options["nesterov"],
                l1,
                l2,
            )
        elif options["optimizer"] == "rmsprop":
            self._W, self._b, self._rmsprop_S_W, self._rmsprop_S_b = rmsprop_step(
                self._W,
                self._b,
                dW,
                db,
                self._rmsprop_S_W,
                self._rmsprop_S_b,
                eta,
                options["rho"],
                options["epsilon"],
                l1,
                l2,
            )
        else:
            self._adam_t += 1
            (
                self._W,
                self._b,
                self._adam_M_W,
                self._adam_M_b,
                self._adam_V_W,
                self._adam_V_b,
            ) = adam_step(
                self._W,
                self._b,
                dW,
                db,
                self._adam_M_W,
                self._adam_M_b,
                self._adam_V_W,
                self._adam_V_b,
                self._adam_t,
                eta,
                options["beta_1"],
                options["beta_2"],
                options["epsilon"],
                l1,
                l2,
            )

    # -- persistence --------------------------------------------------------

    # Optimizer state arrays: saved name prefix, attribute for weights and for
    # biases. SGD's velocities come first, as in version 1 files.
    _SAVED_STATE = (
        ("V_", "_V_W", "_V_b"),
        ("adam_M_", "_adam_M_W", "_adam_M_b"),
        ("adam_V_", "_adam_V_W", "_adam_V_b"),
        ("rmsprop_S_", "_rmsprop_S_W", "_rmsprop_S_b"),
    )

    def save(self, path):
        """Write settings, parameters, optimizer state and epoch to exactly `path`."""
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
            "adam_t": np.int64(self._adam_t),
        }
        for l in range(len(self._W)):
            arrays[f"W{l}"] = self._W[l]
            arrays[f"b{l}"] = self._b[l]
            for prefix, weights, biases in self._SAVED_STATE:
                arrays[f"{prefix}W{l}"] = getattr(self, weights)[l]
                arrays[f"{prefix}b{l}"] = getattr(self, biases)[l]
        # A file object, because np.savez appends ".npz" to a path without it.
        with open(path, "wb") as file:
            np.savez(file, **arrays)

    @classmethod
    def load(cls, path):
        """Return the model stored by `save` at `path`.

        Files of format version 1 hold no RMSprop or Adam state, which then
        starts at zero.
        """
        check_path(path)
        with np.load(path, allow_pickle=False) as data:
            if "format_version" not in data.files:
                raise ValueError(
                    f"{path!r} is not a model written by MLP.save: it has no "
                    "format_version entry."
                )
            version = int(data["format_version"])
            if version not in (1, FORMAT_VERSION):
                raise ValueError(
                    f"{path!r} has format version {version}, but this fastmlp "
                    f"reads versions 1 and {FORMAT_VERSION}."
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
            saved_state = net._SAVED_STATE if version >= 2 else net._SAVED_STATE[:1]
            for prefix, weights, biases in saved_state:
                for kind, attribute, like in (
                    ("W", weights, net._W),
                    ("b", biases, net._b),
                ):
                    name = f"{prefix}{kind}"
                    arrays = [data[f"{name}{l}"] for l in range(L)]
                    value = as_parameter_list(arrays, _shapes(like), net._dtype, name)
                    setattr(net, attribute, value)
            net._epoch = int(data["epoch"])
            if version >= 2:
                net._adam_t = int(data["adam_t"])
        return net
