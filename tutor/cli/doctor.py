"""``pytorch-tutor doctor``: the session's doctor report, for a person or as JSON."""

from __future__ import annotations

import argparse
import json
import os
import sys

from tutor import graphics
from tutor.cli.render import paint
from tutor.core.doctor import DoctorReport, Protection

MODE_NAMES = {"halfblock": "half blocks", "kitty": "Kitty graphics", "sixel": "Sixel"}


def doctor(args: argparse.Namespace) -> int:
    from tutor.cli.main import open_session

    report = open_session(args).doctor()
    # how pictures would be drawn here, from the environment alone (nothing is asked)
    pictures = graphics.choose(os.environ, sys.stdout.isatty())
    if getattr(args, "json", False):
        data = report.to_json()
        data["pictures"] = {"mode": pictures.mode, "reason": pictures.reason}
        print(json.dumps(data, indent=2))
    else:
        print(report_text(report))
        print("\n".join(pictures_lines(pictures)))
    return 0


def pictures_lines(choice: graphics.Choice) -> list[str]:
    asked = " (the terminal's answer confirms it)" if choice.ask else ""
    lines = [f"[--] pictures: {MODE_NAMES[choice.mode]} ({choice.reason}){asked}"]
    if not choice.pixels:
        lines.append(f"      {graphics.SETTING}=kitty or sixel asks for pixels, if the "
                     "terminal draws them")
    return lines


def report_text(report: DoctorReport) -> str:
    ok, bad = paint("ok", "green"), paint("!!", "red")
    facts = report.torch
    torch = facts.torch or facts.torch_error
    vision = facts.torchvision or facts.torchvision_error
    lines = [
        f"[{ok}] Python {report.python}",
        f"[{ok if report.torch_ok else bad}] torch {torch}, torchvision {vision}",
    ]
    if facts.cuda_available:
        lines += [f"[{ok}] CUDA GPU {gpu.index}: {gpu.name}, {gpu.memory_gib} GiB"
                  for gpu in facts.gpus]
    else:
        lines.append(f"[--] no CUDA GPU (torch built for CUDA {facts.cuda_build}); "
                     "code runs on the CPU and GPU-only steps are skipped")
    lines.append(f"[{ok}] device: {report.device} -> {report.resolved_device}")
    mark = ok if not report.course_problems else bad
    lines.append(f"[{mark}] course {report.course_id} ({report.steps} steps) in "
                 f"{report.course_root}")
    lines += [f"      {p}" for p in report.course_problems]
    lines.append(f"[{ok}] workspace: {report.workspace}")
    lines.append(f"[{ok}] progress: {report.progress_file}")
    lines += [f"      {w}" for w in report.progress_warnings]
    lines.append(f"[--] data: {report.data_summary}")
    lines.append("sandbox protections:")
    for layer in report.sandbox:
        lines.append("  " + protection_line(layer, ok, bad))
    return "\n".join(lines)


GPU_SUFFIX = " for GPU runs"  # tutor.sandbox.protections names a GPU run's layer so


def protection_line(layer: Protection, ok: str = "ok", bad: str = "!!") -> str:
    """One layer; one that GPU runs go without says so plainly, never as [ok]."""
    if layer.name.endswith(GPU_SUFFIX):
        name = layer.name.removesuffix(GPU_SUFFIX)
        if not layer.active:
            return f"[{bad}] {name}: OFF for GPU runs: {layer.detail}"
        return f"[{ok}] {name}, GPU runs too: {layer.detail}"
    if layer.name == "GPU runs" and not layer.active:
        return f"[--] GPU runs: {layer.detail}"
    return f"[{ok if layer.active else '--'}] {layer.name}: {layer.detail}"
