"""The GEMM alone, through _core.matmul, against NumPy at awkward shapes."""

import numpy as np
import pytest

from fastmlp import _core

# Shapes around the register tiles (12 x 32, 6 x 16, 4 x 8), the 16 x 16 transpose
# blocks, and the block limits (kc 256, mc 192): every edge and tail path runs.
SHAPES = [
    (1, 1, 1),
    (1, 300, 784),
    (5, 7, 3),
    (12, 32, 16),
    (13, 33, 17),
    (17, 1, 40),
    (24, 64, 33),
    (100, 1000, 17),
    (128, 256, 784),
    (193, 47, 257),
    (300, 130, 300),
    (300, 1100, 300),
]

pytestmark = pytest.mark.usefixtures("isa")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("transpose_a", [False, True])
@pytest.mark.parametrize("transpose_b", [False, True])
@pytest.mark.parametrize("m,n,k", SHAPES)
def test_matmul_matches_numpy(m, n, k, transpose_a, transpose_b, dtype):
    rng = np.random.default_rng(m * 1000 + n + k)
    A = rng.normal(size=(m, k)).astype(dtype)
    B = rng.normal(size=(k, n)).astype(dtype)
    stored_a = np.ascontiguousarray(A.T) if transpose_a else A
    stored_b = np.ascontiguousarray(B.T) if transpose_b else B
    C = _core.matmul(stored_a, stored_b, transpose_a, transpose_b, 1)
    expected = A.astype(np.float64) @ B.astype(np.float64)
    # Each element sums k products of unit normals, with partial sums of size
    # about sqrt(k): the rounding error is about eps * sqrt(k) * sqrt(k). A
    # factor 8 leaves room for FMA and for the blocked summation order.
    eps = np.finfo(dtype).eps
    tolerance = 8 * eps * k
    assert C.dtype == dtype
    assert C.shape == (m, n)
    assert np.max(np.abs(C - expected)) <= tolerance


# Products large enough to split over threads. (300, 1100, 300) has two column
# blocks, two row blocks and two k blocks, with B panels enough for each thread
# to own some. (300, 130, 300) has too few, so its threads share the tiles.
THREADED_SHAPES = [(128, 256, 784), (300, 130, 300), (300, 1100, 300), (193, 200, 600)]


@pytest.mark.parametrize("n_threads", [2, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("transpose_a", [False, True])
@pytest.mark.parametrize("transpose_b", [False, True])
@pytest.mark.parametrize("m,n,k", [*THREADED_SHAPES, (13, 33, 17)])
def test_matmul_same_bits_for_any_thread_count(
    m, n, k, transpose_a, transpose_b, dtype, n_threads
):
    rng = np.random.default_rng(0)
    A = rng.normal(size=(k, m) if transpose_a else (m, k)).astype(dtype)
    B = rng.normal(size=(n, k) if transpose_b else (k, n)).astype(dtype)
    one_thread = _core.matmul(A, B, transpose_a, transpose_b, 1)
    threaded = _core.matmul(A, B, transpose_a, transpose_b, n_threads)
    np.testing.assert_array_equal(one_thread, threaded)


def test_matmul_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="inner dimensions differ"):
        _core.matmul(np.zeros((3, 4), np.float32), np.zeros((5, 2), np.float32))
