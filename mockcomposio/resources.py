"""Where the shipped data (``fixtures/``, ``contracts/``) lives.

In a wheel it is package data under ``mockcomposio/_data``; in a source checkout or an
editable install it is the repo's top-level folders.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def data_dir(name: str) -> Path:
    for candidate in (_PACKAGE_DIR / "_data" / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"mockcomposio data folder {name!r} not found; the install is incomplete "
        f"(looked in {_PACKAGE_DIR / '_data'} and {_PACKAGE_DIR.parent})"
    )


def fixture_path(filename: str) -> Path:
    return data_dir("fixtures") / filename


def contracts_dir() -> Path:
    return data_dir("contracts")
