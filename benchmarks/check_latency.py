"""How long from "check" to verdict: warm (forked) workers against cold interpreters, and
the full-screen tutor as the learner meets it.

Checks a tensor step of the fixture course the way the TUI does and prints the figures:
``warm_*`` forks workers from a warm parent and has the reference computed ahead (while the
learner types), ``warm_side_by_side_*`` runs the reference next to the learner's code,
``spare_*`` takes interpreters started ahead (the path where fork is unsafe, as on macOS),
``cold_*`` starts two fresh interpreters per check (the baseline, measured in the same run).
The verdict is always decided in this process.

The tutor itself (``tui.py``): ``tui_check_p50_ms`` from the key press to the first frame
drawn with the verdict in it (a headless pilot over the same warm runner), ``first_screen_ms`` from starting
``pytorch-tutor`` to the first step's text on a pseudo-terminal (read from outside), and
``first_check_after_launch_ms`` from pressing ctrl+r right after that to the verdict on
screen, while the workers still load PyTorch. A benchmark, not a test: it asserts nothing.

Targets: ``warm_p50_ms`` <= 40, ``tui_check_p50_ms`` <= 100, ``first_screen_ms`` <= 600.

    python benchmarks/check_latency.py [--json] [--warm N] [--cold N] [--device cpu]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tutor.core.checker import Checker  # noqa: E402
from tutor.core.devices import cuda_may_exist  # noqa: E402
from tutor.core.loader import load_course  # noqa: E402
from tutor.sandbox.runner import SubprocessRunner  # noqa: E402
from tutor.sandbox.spare import SpareRunner  # noqa: E402
from tutor.sandbox.warm import WarmRunner  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tui  # noqa: E402

STEP = "basics.compare"
CODE = "import torch\nt = torch.arange(6, dtype=torch.float32).reshape(2, 3)\n"
# on a GPU the tensor must live there, or the worker never creates a CUDA context
GPU_CODE = CODE.replace("torch.float32)", "torch.float32, device=device)")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def time_checks(checker: Checker, count: int, code: str = CODE) -> list[float]:
    """Milliseconds per check. With ``checker.prefetch``, the learner "types" between
    checks: the next reference finishes before the next check starts, as in the TUI."""
    step = load_course(ROOT / "tests" / "fixtures" / "course").step(STEP)
    times = []
    for _ in range(count):
        if checker.prefetch:
            checker.prepare(step)
            checker.wait_prepared(step)
        started = time.perf_counter()
        verdict = checker.check(step, code, "bench.py")
        times.append((time.perf_counter() - started) * 1000)
        if not verdict.passed:
            raise SystemExit(f"the benchmark's own solution failed: {verdict.to_json()}")
    return times


def time_spare_checks(device: str, count: int) -> list[float]:
    """Milliseconds per check on spare interpreters (two: a learner and a reference run side by
    side), the spares refilled between checks as they are while the learner types."""
    if count <= 0:
        return []
    with SpareRunner(spares=2) as runner:
        checker = Checker(runner, device=device)
        times = []
        for _ in range(count):
            runner.wait_ready()
            times.extend(time_checks(checker, 1))
        return times


def time_gpu_checks(count: int) -> dict[str, object]:
    """The same step on CUDA, where a GPU is visible. Each forked worker creates its own
    CUDA context, so every GPU check pays for one: this is the figure to watch."""
    if not cuda_may_exist():
        return {"gpu_warm_p50_ms": None,
                "gpu_note": "no CUDA device visible here: run on a GPU machine for GPU figures"}
    with WarmRunner() as runner:
        runner.warm_up()
        checker = Checker(runner, device="cuda", prefetch=True)
        first = time_checks(checker, 1, GPU_CODE)[0]
        times = time_checks(checker, count, GPU_CODE)
    return {"gpu_first_check_ms": round(first, 1),
            "gpu_warm_p50_ms": round(statistics.median(times), 1),
            "gpu_warm_p95_ms": round(percentile(times, 0.95), 1),
            "gpu_runs": len(times)}


def ui_first_frame_ms() -> tuple[float | None, bool | None]:
    """From launching a fresh interpreter to the TUI's first frame (headless, 80x24), and
    whether torch was loaded in that process by then."""
    probe = (
        "import argparse, asyncio, sys\n"
        "from functools import partial\n"
        "from tutor.tui.app import make_app, open_session\n"
        "args = argparse.Namespace(lessons=None, device='cpu', workspace=None, unlock_all=False)\n"
        "async def main():\n"
        "    app = make_app(partial(open_session, args))\n"
        "    async with app.run_test(size=(80, 24)):\n"
        "        print('frame', 'torch' in sys.modules, flush=True)\n"
        "asyncio.run(main())\n"
    )
    env = dict(os.environ, PYTORCH_TUTOR_HOME=tempfile.mkdtemp())
    started = time.perf_counter()
    with subprocess.Popen([sys.executable, "-c", probe], stdout=subprocess.PIPE, text=True,
                          env=env, cwd=ROOT) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("frame"):
                took = (time.perf_counter() - started) * 1000
                proc.kill()
                return round(took, 1), line.split()[1] == "True"
    return None, None


def _p50(times: list[float]) -> float | None:
    """The median, or None when that part was not timed (``--warm 0``...)."""
    return round(statistics.median(times), 1) if times else None


def _ratio(baseline: list[float], measured: list[float], digits: int = 1) -> float | None:
    """How many times faster ``measured`` is than the baseline of the same run."""
    if not baseline or not measured:
        return None
    return round(statistics.median(baseline) / statistics.median(measured), digits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--warm", type=int, default=40, help="warm checks to time")
    parser.add_argument("--cold", type=int, default=5, help="cold checks to time")
    parser.add_argument("--spare", type=int, default=10, help="checks on spares to time")
    parser.add_argument("--gpu", type=int, default=20, help="CUDA checks to time, where a GPU is")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--tui", type=int, default=20, help="checks in the TUI to time")
    parser.add_argument("--keys", type=int, default=10,
                        help="key presses to time, idle and while code runs")
    parser.add_argument("--launches", type=int, default=5, help="launches of the tutor to time")
    args = parser.parse_args()

    say = partial(print, file=sys.stderr, flush=True)  # progress; the figures go to stdout
    say("cold checks…")
    cold = time_checks(Checker(SubprocessRunner(), device=args.device), args.cold)
    with WarmRunner() as runner:
        runner.warm_up()
        started = time.perf_counter()
        checker = Checker(runner, device=args.device)
        first = time_checks(checker, 1)[0]  # waits for the warm parent to be ready
        ready_s = time.perf_counter() - started
        say("warm checks…")
        side_by_side = time_checks(checker, args.warm)
        warm = time_checks(Checker(runner, device=args.device, prefetch=True), args.warm)
        say("checks in the TUI…")
        tui_checks = tui.time_tui_checks(runner, args.tui)
        say("keys while code runs…")
        keys_idle, keys_busy = tui.time_keys(runner, args.keys)
    say("spare interpreters…")
    spare = time_spare_checks(args.device, args.spare)
    say("launches of pytorch-tutor…")
    screens = tui.time_launches(args.launches)
    gpu = time_gpu_checks(args.gpu)
    frame_ms, frame_torch = ui_first_frame_ms()
    figures = {
        "step": STEP,
        "device": args.device,
        "cpus": os.cpu_count(),
        "warm_p50_ms": _p50(warm),
        "warm_p95_ms": round(percentile(warm, 0.95), 1) if warm else None,
        "cold_p50_ms": _p50(cold),
        "warm_side_by_side_p50_ms": _p50(side_by_side),
        "speedup_p50": _ratio(cold, warm),
        "spare_p50_ms": _p50(spare),
        "spare_speedup_p50": _ratio(cold, spare),
        "warm_parent_ready_s": round(ready_s, 2),
        "first_warm_check_ms": round(first, 1),
        "ui_first_frame_ms": frame_ms,  # in-process, headless: not what the learner sees
        "ui_torch_loaded": frame_torch,
        "tui_check_p50_ms": _p50(tui_checks),
        "tui_check_p95_ms": round(percentile(tui_checks, 0.95), 1) if tui_checks else None,
        "tui_key_idle_p50_ms": _p50(keys_idle),
        "tui_key_busy_p50_ms": _p50(keys_busy),
        "tui_key_busy_max_ms": round(max(keys_busy), 1) if keys_busy else None,
        "tui_key_busy_vs_idle": _ratio(keys_busy, keys_idle, digits=2),  # how much slower
        **screens,
        "warm_runs": len(warm),
        "cold_runs": len(cold),
        "tui_runs": len(tui_checks),
        "spare_runs": len(spare),
        **gpu,
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    for key, value in figures.items():
        print(f"{key:>30}: {value}")


if __name__ == "__main__":
    main()
