"""The device a run uses, and the layers a CUDA run keeps, decided in the tutor before any
worker starts.

A run that will use the CPU gets every layer, whatever drivers the machine has: ``decide``
turns ``auto`` into ``cpu`` unless CUDA initialised in the probe. The probe runs a tiny CUDA
program in an ordinary worker under every layer (the worker's own code path, so what it
proves holds for real runs). Should that fail where the same program works with no layer at
all, it tries each layer alone, and a layer that breaks CUDA is left off for CUDA runs only,
with the reason (``CudaPlan.off``), which the run's report and ``doctor`` show. Where CUDA does
not work even without the layers, nothing is left off: a run asked for ``cuda`` gets every
layer and fails as torch says.

The probe costs a few worker starts, once per driver, interpreter, torch install and tutor
version: its findings are kept beside the GPU slot locks (a per-user folder, cleared at
reboot), and a warm session starts it in the background at warm-up. Without a driver nothing
is probed. Nothing here imports torch.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import platform
import stat
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

from tutor import __version__
from tutor.core import devices
from tutor.core.progress import default_data_dir
from tutor.core.runs import Limits, RunRequest, RunResult, ValueProbe
from tutor.sandbox import isolation

PROBED = ("namespaces", "landlock")  # the layers a CUDA probe may find in its way
TRIAL = """import torch
x = torch.ones(8, device="cuda")
t = float((x * 2).sum())
name = torch.cuda.get_device_name(x.device)
"""
TRIAL_EXPECTED = 16.0
TRIAL_TIMEOUT_S = 60.0  # CPU seconds; a trial that hangs (a stuck driver) ends at 2 minutes
CACHE_FILE = "cuda-probe.json"


@dataclass(frozen=True)
class CudaPlan:
    """What the probe found: whether CUDA works here, and the layers CUDA runs go without."""

    usable: bool = False
    detail: str = ""  # the GPU it used, or why CUDA did not initialise
    off: dict[str, str] = field(default_factory=dict)  # layer -> why CUDA runs go without it
    probed: bool = False  # False: no driver, nothing was tried
    conclusive: bool = True  # False: a trial ran out of time (a busy machine): not remembered

    def to_json(self) -> dict[str, Any]:
        return {"usable": self.usable, "detail": self.detail, "off": dict(self.off)}


NO_DRIVER = CudaPlan(detail="no NVIDIA driver on this machine")

_lock = threading.Lock()
_found: dict[str, CudaPlan] = {}  # by the key of what the findings depend on


def plan() -> CudaPlan:
    """This machine's CUDA plan: probed once (blocking), then remembered."""
    if not devices.cuda_may_exist():
        return NO_DRIVER
    key = _key()
    with _lock:
        if key not in _found:
            found = _load(key) or probe()
            _found[key] = _store(key, found) if found.conclusive else found
        return _found[key]


def start() -> None:
    """Probe in the background (a warm session's warm-up), so the first check need not."""
    if devices.cuda_may_exist():
        threading.Thread(target=plan, daemon=True, name="cuda-probe").start()


def decide(device: str) -> str:
    """The device a worker is started for: never ``auto``. Without a driver, or where CUDA
    did not initialise in the probe, ``auto`` is the CPU (or MPS) and the run gets every
    layer; explicit devices stay as asked."""
    resolved = devices.resolve(device)
    if resolved != "auto":
        return resolved
    return "cuda" if plan().usable else "cpu"


def layers_off(device: str) -> dict[str, str]:
    """The layers a run on ``device`` goes without, and why: none for a CPU run."""
    return dict(plan().off) if device.startswith("cuda") else {}


# --------------------------------------------------------------------------- the probe


def probe() -> CudaPlan:
    """Initialise CUDA in workers: under every layer, else with none, else layer by layer."""
    every = _trial({})
    if _works(every):
        return CudaPlan(True, f"CUDA initialised under every layer ({_gpu(every)})", {}, True)
    bare = _trial({layer: "the CUDA probe" for layer in PROBED})
    if not _works(bare):
        return CudaPlan(False, f"CUDA did not initialise: {_why(bare)}", {}, True,
                        _conclusive(every, bare))
    off, tried = {}, [every, bare]
    for layer in PROBED:
        alone = _trial({other: "the CUDA probe" for other in PROBED if other != layer})
        tried.append(alone)
        if not _works(alone):
            off[layer] = f"CUDA did not initialise under it at warm-up ({_why(alone)})"
    if not off:  # each holds alone but not both together: keep the first
        off[PROBED[-1]] = f"CUDA did not initialise under every layer together ({_why(every)})"
    if not _conclusive(*tried):  # a trial ran out of time: no layer is dropped on that
        return CudaPlan(True, f"CUDA initialised ({_gpu(bare)}); a trial under the layers "
                        "ran out of time, so they all stay", {}, True, False)
    return CudaPlan(True, f"CUDA initialised ({_gpu(bare)})", off, True)


def _conclusive(*results: RunResult) -> bool:
    """Whether the trials failed for CUDA's sake, not for want of time or by being stopped."""
    return not any(r.status in ("timeout", "cancelled", "protocol", "killed") for r in results)


def _trial(off: dict[str, str]) -> RunResult:
    """The trial program in a cold worker on ``cuda`` without the layers in ``off``."""
    from tutor.sandbox.runner import ProcessRun, spawn_interpreter

    request = RunRequest(
        role="reference", code=TRIAL, filename="<CUDA probe>", device="cuda",
        probes=(ValueProbe(id="t", name="t"), ValueProbe(id="name", name="name")),
        limits=Limits(timeout_s=TRIAL_TIMEOUT_S, wall_s=2 * TRIAL_TIMEOUT_S, memory_bytes=None),
        protect=(str(default_data_dir()), os.path.expanduser("~")),
    )
    run = ProcessRun(spawn_interpreter(sys.executable), request, None, decided=("cuda", off))
    try:
        return run.wait()
    finally:
        run.close()


def _works(result: RunResult) -> bool:
    return result.ok and result.values.get("t") == TRIAL_EXPECTED


def _gpu(result: RunResult) -> str:
    name = result.values.get("name")
    return name if isinstance(name, str) else "a GPU"


def _why(result: RunResult) -> str:
    if result.error is not None:
        return f"{result.error.type}: {result.error.message}"[:300]
    return result.status + (f" ({result.signal})" if result.signal else "")


# --------------------------------------------------------------------------- remembering


def _key() -> str:
    """What the findings depend on: the driver, this interpreter and torch, the tutor (its
    layers), the kernel and the GPUs made visible; a change means probing again."""
    spec = importlib.util.find_spec("torch")  # finds torch without importing it
    origin = spec.origin if spec is not None and spec.origin else ""
    with contextlib.suppress(OSError):
        origin += f" {os.stat(origin).st_mtime_ns}"
    parts = [devices.driver_text(), os.path.realpath(sys.executable), sys.prefix, origin,
             __version__, platform.release(), os.environ.get("CUDA_VISIBLE_DEVICES", ""),
             os.environ.get("NVIDIA_VISIBLE_DEVICES", ""), TRIAL]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _cache_path() -> str:
    return os.path.join(isolation.gpu_lock_dir(), CACHE_FILE)


def _load(key: str) -> CudaPlan | None:
    try:
        with open(_cache_path(), encoding="utf-8") as f:
            data = json.load(f)
        if not _ours(os.path.dirname(_cache_path())) or data.get("key") != key:
            return None
        off = {str(k): str(v) for k, v in dict(data["off"]).items() if k in PROBED}
        return CudaPlan(bool(data["usable"]), str(data["detail"]), off, True)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _store(key: str, found: CudaPlan) -> CudaPlan:
    folder = os.path.dirname(_cache_path())
    with contextlib.suppress(OSError):
        with contextlib.suppress(FileExistsError):
            os.mkdir(folder, 0o700)
        if _ours(folder):
            temporary = f"{_cache_path()}.{os.getpid()}"
            with open(temporary, "w", encoding="utf-8") as f:
                json.dump({"key": key, **found.to_json()}, f)
            os.replace(temporary, _cache_path())
    return found


def _ours(folder: str) -> bool:
    """Only a folder of this user's, that no one else may write, is trusted."""
    try:
        info = os.lstat(folder)
    except OSError:
        return False
    return (stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid()
            and not info.st_mode & 0o022)
