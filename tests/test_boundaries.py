"""The architecture's promises, proved: the core is pure, and the tutor's own process never
imports torch (it costs seconds, and learner code must not run there)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURE_COURSE

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN_IN_CORE = ("tutor.sandbox", "tutor.torch_tools", "tutor.tui", "tutor.cli",
                     "tutor.bootstrap", "torch", "torchvision", "textual", "rich")


def core_modules() -> list[str]:
    """Every module of ``tutor.core``, found on disk (a new one is covered at once)."""
    core = ROOT / "tutor" / "core"
    return sorted(".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
                  for p in core.rglob("*.py"))


def loaded_after(code: str, env: dict | None = None) -> set[str]:
    probe = code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, env=env)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_the_core_loads_no_sandbox_shell_torch_or_ui_library() -> None:
    names = core_modules()
    assert "tutor.core.checks.compare" in names and "tutor.core.session" in names
    modules = loaded_after("\n".join(f"import {name}" for name in names))
    assert set(names) <= modules
    leaked = sorted(m for m in modules if m.split(".")[0] in FORBIDDEN_IN_CORE
                    or any(m == f or m.startswith(f + ".") for f in FORBIDDEN_IN_CORE))
    assert leaked == []


def test_the_cli_process_loads_no_torch_and_no_ui_library() -> None:
    modules = loaded_after("import tutor.cli.main, tutor.cli.doctor, tutor.cli.authoring, "
                           "tutor.cli.watch, tutor.bootstrap")
    assert not {"torch", "torchvision", "textual"} & modules


@pytest.mark.slow
def test_a_full_check_from_the_cli_process_never_imports_torch(tmp_path: Path) -> None:
    code = f"""
import os
os.environ["PYTORCH_TUTOR_HOME"] = {str(tmp_path)!r}
from tutor.bootstrap import Options, open_session
s = open_session(Options(lessons={str(FIXTURE_COURSE)!r}, device="cpu"))
s.write_code("basics.compare", "import torch\\nt = torch.arange(6.).reshape(2, 3)\\n")
assert s.check("basics.compare").passed
"""
    modules = loaded_after(code)
    assert "tutor.core.checker" in modules
    assert "torch" not in modules and "textual" not in modules
