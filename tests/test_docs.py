"""docs/math.md names only reference functions and tests that exist."""

import re
from pathlib import Path

from fastmlp import reference

ROOT = Path(__file__).resolve().parent.parent
MATH_PAGE = ROOT / "docs" / "math.md"


def test_math_page_functions_exist():
    names = re.findall(r"`reference\.(\w+)`", MATH_PAGE.read_text())
    assert len(names) >= 20
    missing = [name for name in names if not callable(getattr(reference, name, None))]
    assert missing == []


def test_math_page_tests_exist():
    links = re.findall(
        r"\[`(test_\w+)`\]\(\.\./(tests/\w+\.py)\)", MATH_PAGE.read_text()
    )
    assert len(links) >= 20
    missing = [
        f"{path}::{name}"
        for name, path in links
        if not re.search(rf"^def {name}\(", (ROOT / path).read_text(), re.MULTILINE)
    ]
    assert missing == []


def test_math_page_rows_complete():
    rows = [
        line
        for line in MATH_PAGE.read_text().splitlines()
        if line.startswith("|") and not line.startswith(("| formula", "|---"))
    ]
    assert rows
    for row in rows:
        assert "`reference." in row, row
        assert "`test_" in row, row
