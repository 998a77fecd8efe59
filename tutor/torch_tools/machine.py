"""The core's ``Machine`` port on this machine: torch asked in a child, the sandbox's layers
found by trying them."""

from __future__ import annotations

import json
import subprocess
import sys

from tutor.core.doctor import Protection, TorchFacts
from tutor.core.progress import default_data_dir
from tutor.sandbox import protections
from tutor.sandbox.runner import child_env


class LocalMachine:
    def __init__(self, timeout_s: float = 120.0):
        self.timeout_s = timeout_s

    def torch_facts(self) -> TorchFacts:
        """Ask a child interpreter what torch sees (the tutor's process never imports torch)."""
        env = child_env("doctor", str(default_data_dir()), 1)
        try:
            done = subprocess.run([sys.executable, "-I", "-m", "tutor.torch_tools.facts"],
                                  capture_output=True, text=True, timeout=self.timeout_s,
                                  env=env)
        except subprocess.TimeoutExpired:
            return TorchFacts(torch_error=f"importing torch took over {self.timeout_s:.0f} s")
        try:
            return TorchFacts.from_json(json.loads(done.stdout.strip().splitlines()[-1]))
        except (json.JSONDecodeError, IndexError, AttributeError):
            return TorchFacts(torch_error=(done.stderr.strip() or "no answer")[-500:])

    def protections(self) -> list[Protection]:
        return protections.detect()
