"""Type information installed with fastmlp: py.typed and the stub of fastmlp._core."""

import pathlib
import subprocess
import sys

import pytest

import fastmlp

INSTALLED_PACKAGE = pathlib.Path(fastmlp.__file__).parent
# Run from the repository root after installing; stubgen writes
# <output folder>/fastmlp/_core.pyi.
REGENERATE = "pybind11-stubgen fastmlp._core -o python"


def test_typing_files_installed():
    assert (INSTALLED_PACKAGE / "py.typed").is_file()
    assert (INSTALLED_PACKAGE / "_core.pyi").is_file()


def test_typing_core_stub_up_to_date(tmp_path):
    pytest.importorskip("pybind11_stubgen")
    command = [sys.executable, "-m", "pybind11_stubgen", "fastmlp._core"]
    result = subprocess.run(
        [*command, "-o", str(tmp_path), "--exit-code"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr

    generated = (tmp_path / "fastmlp" / "_core.pyi").read_text()
    shipped = (INSTALLED_PACKAGE / "_core.pyi").read_text()
    assert generated == shipped, (
        "python/fastmlp/_core.pyi does not match the compiled fastmlp._core. "
        f"Regenerate it from the repository root, after installing, with: {REGENERATE}"
    )
