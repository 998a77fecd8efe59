"""The promises of the README and the package metadata."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```bash\n(.+?)\n```", text)


def test_ci_runs_the_readme_test_command() -> None:
    start, test = readme_commands()[:2]
    assert start.endswith(".venv/bin/pytorch-tutor")
    assert test.endswith(".venv/bin/pytest")
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test in ci


def test_every_package_is_listed_in_pyproject() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "tutor").rglob("__init__.py")}
    assert found <= listed, f"add {sorted(found - listed)} to [tool.setuptools] packages"


def test_constraints_pin_the_tested_pair() -> None:
    pins = (ROOT / "constraints" / "ci.txt").read_text()
    assert "torch==2.14.1" in pins and "torchvision==0.29.1" in pins


@pytest.mark.slow
def test_the_wheel_ships_the_course_and_the_stylesheet(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "tutor/_lessons/course.yaml" in names
    shipped = {n.removeprefix("tutor/_lessons/") for n in names if n.startswith("tutor/_lessons/")}
    on_disk = {p.name for p in (ROOT / "lessons").glob("*.yaml")}
    assert on_disk <= shipped
    assert any(n.startswith("tutor/tui/") and n.endswith(".tcss") for n in names)
