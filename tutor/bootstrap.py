"""The composition root: the one place that wires the core to the sandbox.

The CLI, the TUI and ``watch`` all open their session here, so the runner, the data folder
and the device are chosen the same way everywhere. The core never imports the sandbox; only
this module (and the sandbox itself) does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tutor.core import datasets, devices
from tutor.core.checker import Checker
from tutor.core.loader import load_course
from tutor.core.progress import ProgressStore, default_data_dir
from tutor.core.runs import Runner
from tutor.core.session import Session, bundled_course_dir
from tutor.core.workspace import Workspace
from tutor.torch_tools.machine import LocalMachine


@dataclass(frozen=True)
class Options:
    """What a shell lets the learner choose."""

    lessons: Path | str | None = None  # a course folder; the bundled course by default
    device: str = "auto"
    workspace: Path | str | None = None
    data_dir: Path | str | None = None
    unlock_all: bool = False
    warm: bool = False  # keep workers ready: pays off in long-lived shells (TUI, watch)


def make_runner(warm: bool, spares: int = 1) -> Runner:
    """Workers forked from a warm parent (or spares where fork is unsafe) for long-lived
    shells; a fresh interpreter per run for one-shot commands."""
    from tutor.sandbox.runner import SubprocessRunner
    from tutor.sandbox.warm import default_runner

    if not warm:
        return SubprocessRunner()
    runner = default_runner(spares=spares)
    runner.warm_up()
    return runner


def open_session(options: Options = Options(), runner: Runner | None = None) -> Session:
    """Load a course and the learner's state; ``runner`` replaces the usual one (tests)."""
    devices.validate(options.device)
    course = load_course(Path(options.lessons) if options.lessons else bundled_course_dir())
    home = default_data_dir()
    store = ProgressStore(home / "progress.json")
    workspace = Path(options.workspace) if options.workspace else home / "workspace"
    data = Path(options.data_dir) if options.data_dir else datasets.default_data_dir()
    # A one-shot command starts an interpreter per run (torch's import, seconds): a repair
    # run costs that much more there, and a failing `check` may wait for one.
    checker = Checker(runner or make_runner(options.warm), device=options.device,
                      data_dir=str(data), prefetch=options.warm,
                      repair_budget_s=1.5 if options.warm else 6.0)
    return Session(course, store, Workspace(workspace, course.id), checker, options.unlock_all,
                   machine=LocalMachine())
