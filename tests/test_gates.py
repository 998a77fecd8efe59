"""The gates CI runs with the tests (the README's one test command runs them all): the linter,
the type checker on ``tutor/`` and the import contracts of the layers (pyproject.toml)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    """The tool installed beside this interpreter (the virtualenv's), else on PATH."""
    path = BIN / name
    found = str(path) if path.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[test]'")
    return found


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing() -> None:
    done = run(tool("ruff"), "check", "tutor", "tests", "benchmarks")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_type_checker_finds_no_error_in_the_tutor() -> None:
    done = run(tool("mypy"), "--no-incremental", "tutor")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_import_contracts_of_the_layers_hold() -> None:
    done = run(tool("lint-imports"), "--no-cache")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout
