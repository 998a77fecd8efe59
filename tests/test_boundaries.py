"""The architecture's promises, proved: the core is pure, and the tutor's own process never
imports torch (it costs seconds, and learner code must not run there)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURE_COURSE

CORE_MODULES = [
    "tutor.core.model", "tutor.core.loader", "tutor.core.schema", "tutor.core.checker",
    "tutor.core.judging", "tutor.core.feedback", "tutor.core.progress", "tutor.core.workspace",
    "tutor.core.session", "tutor.core.validate", "tutor.core.datasets", "tutor.sandbox.runner",
    "tutor.sandbox.frames", "tutor.cli.main",
]


def loaded_after(code: str, env: dict | None = None) -> set[str]:
    probe = code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, env=env)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_core_imports_neither_textual_nor_torch() -> None:
    modules = loaded_after("\n".join(f"import {name}" for name in CORE_MODULES))
    assert not {"torch", "textual", "torchvision", "rich"} & modules


@pytest.mark.slow
def test_a_full_check_from_the_cli_process_never_imports_torch(tmp_path: Path) -> None:
    code = f"""
import os
os.environ["PYTORCH_TUTOR_HOME"] = {str(tmp_path)!r}
from tutor.core.session import Session
s = Session.open(lessons={str(FIXTURE_COURSE)!r}, device="cpu")
s.write_code("basics.compare", "import torch\\nt = torch.arange(6.).reshape(2, 3)\\n")
assert s.check("basics.compare").passed
"""
    modules = loaded_after(code)
    assert "tutor.core.checker" in modules
    assert "torch" not in modules and "textual" not in modules
