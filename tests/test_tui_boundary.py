"""The app's own process never imports torch: only the sandboxed children do.

Each test runs a headless app in a fresh interpreter (this test process may have torch
loaded by other tests) and prints what it found in ``sys.modules``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from test_tui_support import FIXTURE, SOLUTION

SCRIPT = textwrap.dedent("""
    import asyncio, json, sys
    from functools import partial
    from tutor.bootstrap import Options, open_session
    from tutor.tui.app import make_app
    from tutor.tui.options import TutorOptions

    async def main(workspace, code):
        options = Options(lessons=sys.argv[1], device="cpu", workspace=workspace)
        app = make_app(partial(open_session, options), TutorOptions(cursor_blink=False))
        report = {}
        async with app.run_test(size=(80, 24)) as pilot:
            while app.step_screen.state.view is None:
                await pilot.pause(0.05)
            report["step"] = app.step_screen.state.view.step.id
            if code:
                editor = app.query_one("#editor")
                editor.replace(code, (0, 0), editor.document.end)
                await pilot.press("ctrl+r")
                while app.step_screen.state.verdict is None:
                    await pilot.pause(0.1)
                report["passed"] = app.step_screen.state.verdict.passed
            report["torch"] = sorted(m for m in sys.modules if m.split(".")[0] == "torch")
        print(json.dumps(report))

    asyncio.run(main(sys.argv[2], sys.argv[3]))
""")


def run_headless(tmp_path: Path, code: str = "") -> dict:
    env = dict(os.environ, PYTORCH_TUTOR_HOME=str(tmp_path / "home"))
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(FIXTURE), str(tmp_path / "ws"), code],
        capture_output=True, text=True, timeout=180, env=env,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_opening_the_app_imports_no_torch(tmp_path):
    report = run_headless(tmp_path)
    assert report["step"] == "basics.compare"
    assert report["torch"] == []


@pytest.mark.slow
def test_checking_in_the_app_imports_no_torch(tmp_path):
    report = run_headless(tmp_path, SOLUTION)
    assert report["passed"] is True
    assert report["torch"] == []


def loaded_on_import(module: str, candidates: list[str]) -> list[str]:
    """Which of ``candidates`` importing ``module`` loads, in a fresh interpreter."""
    code = (f"import sys, json; import {module}; "
            f"print(json.dumps([m for m in {candidates!r} if m in sys.modules]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    return json.loads(done.stdout)


def test_the_first_frame_does_not_wait_for_the_course_tools():
    """The session (course loader, numpy, jsonschema) loads in a worker, after the first frame."""
    heavy = ["tutor.core.session", "tutor.core.checker", "tutor.core.model", "tutor.core.views",
             "numpy", "msgspec", "jsonschema", "yaml"]
    assert loaded_on_import("tutor.tui.app", heavy) == []


def test_the_first_frame_does_not_wait_for_the_step_view_widgets():
    """Markdown (markdown-it) and TextArea (tree-sitter) cost a sixth of a second: the lesson,
    the editor and the screens that use them load after the first frame."""
    heavy = ["textual.widgets._markdown", "textual.widgets._text_area", "tree_sitter",
             "markdown_it"]
    assert loaded_on_import("tutor.tui.app", heavy) == []
