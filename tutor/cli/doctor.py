"""``pytorch-tutor doctor``: everything that decides whether the tutor works here."""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from typing import Any

from tutor.cli.render import paint
from tutor.core import datasets, devices
from tutor.core.progress import default_data_dir
from tutor.core.session import Session
from tutor.sandbox import protections
from tutor.sandbox.runner import child_env


def torch_facts(timeout: float = 120) -> dict[str, Any]:
    """Ask a child interpreter what torch sees (the tutor's process never imports torch)."""
    env = child_env("doctor", str(default_data_dir()), 1)
    try:
        done = subprocess.run([sys.executable, "-I", "-m", "tutor.sandbox.probe"],
                              capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"torch_error": f"importing torch took over {timeout:.0f} s"}
    try:
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        return {"torch_error": (done.stderr.strip() or "no answer")[-500:]}


def describe_data(status: datasets.DatasetStatus) -> str:
    if status.complete:
        return f"Fashion-MNIST ready in {status.raw_dir}"
    if status.substitute:
        return ("Fashion-MNIST missing; the offline substitute (digits) is ready. "
                "`pytorch-tutor data fetch` gets the real data")
    return f"Fashion-MNIST missing ({len(status.missing)} of 4 files); run `pytorch-tutor data fetch`"


def report(args: argparse.Namespace) -> dict[str, Any]:
    session = Session.open(lessons=args.lessons, device=args.device, workspace=args.workspace)
    facts = torch_facts()
    data = datasets.status(datasets.default_data_dir())
    return {
        "python": platform.python_version(),
        "torch": facts.get("torch") or facts.get("torch_error"),
        "torchvision": facts.get("torchvision") or facts.get("torchvision_error"),
        "cuda": {"available": facts.get("cuda_available", False),
                 "torch_built_for": facts.get("torch_cuda_build"),
                 "gpus": facts.get("gpus", []),
                 "driver_seen": devices.cuda_may_exist()},
        "mps": facts.get("mps_available", False),
        "device": {"asked": args.device, "resolved": devices.resolve(args.device)},
        "course": {"id": session.course.id, "root": str(session.course.root),
                   "steps": len(session.course.steps()),
                   "problems": [str(p) for p in session.course.problems]},
        "workspace": str(session.workspace.root),
        "progress_file": str(session.store.path),
        "progress_warnings": list(session.store.warnings),
        "data": {"dir": str(data.data_dir), "summary": describe_data(data)},
        "sandbox": [p.to_json() for p in protections.detect()],
    }


def doctor(args: argparse.Namespace) -> int:
    info = report(args)
    if getattr(args, "json", False):
        print(json.dumps(info, indent=2))
        return 0
    ok, bad = paint("ok", "green"), paint("!!", "red")
    torch_ok = not str(info["torch"]).startswith(("ModuleNotFoundError", "ImportError"))
    lines = [
        f"[{ok}] Python {info['python']}",
        f"[{ok if torch_ok else bad}] torch {info['torch']}, torchvision {info['torchvision']}",
    ]
    cuda = info["cuda"]
    if cuda["available"]:
        for gpu in cuda["gpus"]:
            lines.append(f"[{ok}] CUDA GPU {gpu['index']}: {gpu['name']}, {gpu['memory_gib']} GiB")
    else:
        lines.append(f"[--] no CUDA GPU (torch built for CUDA {cuda['torch_built_for']}); "
                     "code runs on the CPU and GPU-only steps are skipped")
    lines.append(f"[{ok}] device: {info['device']['asked']} -> {info['device']['resolved']}")
    course = info["course"]
    mark = ok if not course["problems"] else bad
    lines.append(f"[{mark}] course {course['id']} ({course['steps']} steps) in {course['root']}")
    lines += [f"      {p}" for p in course["problems"]]
    lines.append(f"[{ok}] workspace: {info['workspace']}")
    lines.append(f"[{ok}] progress: {info['progress_file']}")
    lines += [f"      {w}" for w in info["progress_warnings"]]
    lines.append(f"[--] data: {info['data']['summary']}")
    lines.append("sandbox protections:")
    for layer in info["sandbox"]:
        mark = ok if layer["active"] else "--"
        lines.append(f"  [{mark}] {layer['name']}: {layer['detail']}")
    print("\n".join(lines))
    return 0
