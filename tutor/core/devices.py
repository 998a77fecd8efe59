"""Which device learner code runs on, decided without importing torch.

``auto`` needs to know whether CUDA can exist here. An NVIDIA driver leaves
``/proc/driver/nvidia`` (Linux) or ``nvidia-smi`` on PATH; without either, CUDA cannot
be available and ``auto`` is the CPU (or MPS on Apple silicon). With a driver, ``resolve``
keeps ``auto`` and the sandbox decides before it starts a worker (``tutor.sandbox.gpu``:
a probe child that initialises CUDA once), so a run that will use the CPU is isolated as on
a machine without a driver, and a broken CUDA install falls back to the CPU.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import sys

DEVICE_PATTERN = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")
DRIVER_FILE = "/proc/driver/nvidia/version"  # what the NVIDIA driver shows (tests move it)


class DeviceError(ValueError):
    """A device name the tutor does not understand."""


def validate(name: str) -> str:
    if not DEVICE_PATTERN.match(name):
        raise DeviceError(
            f"unknown device {name!r}: use auto, cpu, cuda, cuda:N (e.g. cuda:1) or mps"
        )
    return name


def cuda_may_exist() -> bool:
    """False only when CUDA certainly is not available (no driver, or no visible GPU)."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return False
    if sys.platform.startswith("linux"):
        return os.path.exists(DRIVER_FILE) or shutil.which("nvidia-smi") is not None
    return shutil.which("nvidia-smi") is not None


def driver_text() -> str:
    """What identifies the driver installed now (its version line, else where nvidia-smi
    is and when it changed): a probe's findings hold as long as this does not change."""
    try:
        with open(DRIVER_FILE, encoding="utf-8", errors="replace") as f:
            return f.read(4096)
    except OSError:
        pass
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return ""
    try:
        return f"{os.path.realpath(smi)} {os.stat(smi).st_mtime_ns}"
    except OSError:
        return smi


def is_apple_silicon() -> bool:
    return sys.platform == "darwin" and platform.machine() == "arm64"


def resolve(name: str) -> str:
    """The device as far as it can be decided without torch: ``auto`` stays ``auto`` only
    where a driver exists (the sandbox then decides, before the worker starts)."""
    name = validate(name)
    if name != "auto":
        return name
    if cuda_may_exist():
        return "auto"
    return "mps" if is_apple_silicon() else "cpu"


def may_use_cuda(name: str) -> bool:
    """Whether a run on ``name`` can reach a CUDA device (steps that need CUDA run only then)."""
    resolved = resolve(name)
    return resolved.startswith("cuda") or resolved == "auto"


def no_cuda_reason(name: str) -> str:
    if not may_use_cuda(name):
        if name.startswith("cuda") or name == "auto":
            return "this step needs a CUDA GPU, and none is visible on this machine"
        return f"this step needs a CUDA GPU; the tutor runs on {name} (use --device auto or cuda)"
    return ""


def label(name: str) -> str:
    """Where code will run, for a screen: ``auto`` resolves only in the learner's process."""
    resolved = resolve(name)
    return "cuda or cpu" if resolved == "auto" else resolved
