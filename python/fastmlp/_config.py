"""Build and run-time configuration: instruction set, threads, block sizes."""

import os

from . import _core

_ISA_VARIABLE = "FASTMLP_ISA"


def apply_isa_from_environment():
    """Select the kernels named by FASTMLP_ISA, if it is set."""
    name = os.environ.get(_ISA_VARIABLE, "").strip().lower()
    if not name:
        return
    try:
        _core.set_isa(name)
    except ValueError as error:
        raise ImportError(
            f"{_ISA_VARIABLE}={name!r} cannot be used: {error}; "
            "unset it or choose 'portable', 'avx2' or 'avx512'"
        ) from None


def config():
    """Return the configuration that ``show_config`` prints, as a dict."""
    return {
        "isa": _core.active_isa(),
        "best_isa": _core.best_isa(),
        "threads": _core.max_threads(),
        "float32": _core.kernel_config("float32"),
        "float64": _core.kernel_config("float64"),
        "compiler": _core.compiler,
        "build_type": _core.build_type,
    }


def show_config():
    """Print the instruction set, thread count, GEMM block sizes and compiler.

    The instruction set is chosen at import from what the CPU supports; the
    ``FASTMLP_ISA`` environment variable ("portable", "avx2" or "avx512") picks a
    lower one. The thread count is OpenMP's current maximum, which
    ``OMP_NUM_THREADS`` and threadpoolctl set.
    """
    settings = config()
    print(
        f"instruction set: {settings['isa']} (best supported: {settings['best_isa']})"
    )
    print(
        f"threads: {settings['threads']} "
        "(OpenMP maximum; a model's n_threads overrides it)"
    )
    for dtype in ("float32", "float64"):
        k = settings[dtype]
        print(
            f"{dtype} GEMM: {k['mr']} x {k['nr']} register tile, blocks up to "
            f"kc={k['max_kc']} mc={k['max_mc']} nc={k['max_nc']}"
        )
    print(f"compiler: {settings['compiler']}, build type: {settings['build_type']}")
