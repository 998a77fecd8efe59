"""Which protections around learner code are active on this machine, found by trying them."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from tutor.sandbox import reaper


@dataclass(frozen=True)
class Protection:
    name: str
    active: bool
    detail: str

    def to_json(self) -> dict:
        return {"name": self.name, "active": self.active, "detail": self.detail}


def _try_in_fork(action) -> bool:  # type: ignore[no-untyped-def]
    """Run ``action`` in a forked child so whatever it changes dies with the child."""
    if not hasattr(os, "fork"):
        return False
    pid = os.fork()
    if pid == 0:
        try:
            os._exit(0 if action() else 1)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def _rlimits() -> bool:
    try:
        import resource
    except ImportError:
        return False

    def lower() -> bool:
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, hard))
        return resource.getrlimit(resource.RLIMIT_FSIZE)[0] == 1 << 20

    return _try_in_fork(lower)


def detect() -> list[Protection]:
    linux = sys.platform.startswith("linux")
    subreaper = linux and _try_in_fork(reaper.become_subreaper)
    rlimits = _rlimits()
    return [
        Protection("separate process", True,
                   "your code never runs in the tutor's process; results cross a private pipe"),
        Protection("framed results", True,
                   "results are length-checked JSON and raw numbers: no pickle, no torch.load; "
                   "the verdict is decided in the tutor"),
        Protection("clean interpreter", True,
                   "python -I: a torch.py in your folder cannot shadow torch; "
                   "environment reduced to an allowlist"),
        Protection("process tree kill", subreaper,
                   "subreaper + run token: children and setsid() grandchildren are killed"
                   if subreaper else "only the process group is killed on this platform"),
        Protection("resource limits", rlimits,
                   "CPU time, memory (RLIMIT_DATA, not on CUDA), file size, open files, no core"
                   if rlimits else "rlimits are not available here"),
        Protection("wall-clock timeout", True, "per step; the whole tree is killed at the limit"),
        Protection("network isolation", False,
                   "not used yet: your code can reach the network"),
        Protection("filesystem isolation", False,
                   "not used yet: your code can read and write what your user can"),
    ]
