"""The code stays `ruff check`, `ruff format` and `mypy` clean."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str, tool: str = "ruff") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", tool, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_ruff_check() -> None:
    result = _run("check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format() -> None:
    result = _run("format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_on_the_product_code() -> None:
    """Type hints are checked, not decoration (files and options in pyproject.toml)."""
    result = _run("--no-incremental", "--cache-dir=/dev/null", tool="mypy")
    assert result.returncode == 0, result.stdout + result.stderr
