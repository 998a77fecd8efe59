"""``doctor``: everything that decides whether the tutor works here, as one report.

What torch sees and which sandbox layers hold come through the ``Machine`` port (a child
process asks torch; the sandbox tries its layers), so this use case stays free of both.
"""

from __future__ import annotations

import platform
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from tutor.core import datasets, devices

if TYPE_CHECKING:
    from tutor.core.session import Session


@dataclass(frozen=True)
class Protection:
    """One layer around learner code, found active or not by trying it."""

    name: str
    active: bool
    detail: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Gpu:
    index: int
    name: str
    memory_gib: float


@dataclass(frozen=True)
class TorchFacts:
    """What torch sees on this machine, asked in a child process."""

    torch: str = ""  # the version, or "" with ``torch_error``
    torch_error: str = ""
    torchvision: str = ""
    torchvision_error: str = ""
    cuda_build: str | None = None  # the CUDA version torch was built for
    cuda_available: bool = False
    gpus: tuple[Gpu, ...] = ()
    mps_available: bool = False

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TorchFacts:
        """From the child's JSON line; anything odd in it reads as absent."""
        gpus = tuple(Gpu(int(g.get("index", 0)), str(g.get("name", "?")),
                         float(g.get("memory_gib", 0))) for g in data.get("gpus") or []
                     if isinstance(g, dict))
        build = data.get("torch_cuda_build")
        return cls(
            torch=str(data.get("torch") or ""), torch_error=str(data.get("torch_error") or ""),
            torchvision=str(data.get("torchvision") or ""),
            torchvision_error=str(data.get("torchvision_error") or ""),
            cuda_build=None if build is None else str(build),
            cuda_available=bool(data.get("cuda_available")), gpus=gpus,
            mps_available=bool(data.get("mps_available")),
        )


class Machine(Protocol):
    """What the doctor asks of this machine."""

    def torch_facts(self) -> TorchFacts: ...

    def protections(self) -> list[Protection]: ...


@dataclass(frozen=True)
class DoctorReport:
    python: str
    torch: TorchFacts
    device: str  # as asked
    resolved_device: str
    driver_seen: bool
    course_id: str
    course_root: str
    steps: int
    course_problems: tuple[str, ...]
    workspace: str
    progress_file: str
    progress_warnings: tuple[str, ...]
    data_dir: str
    data_summary: str
    sandbox: tuple[Protection, ...] = field(default_factory=tuple)

    @property
    def torch_ok(self) -> bool:
        return bool(self.torch.torch)

    def to_json(self) -> dict[str, Any]:
        facts = self.torch
        return {
            "python": self.python,
            "torch": facts.torch or facts.torch_error,
            "torchvision": facts.torchvision or facts.torchvision_error,
            "cuda": {"available": facts.cuda_available, "torch_built_for": facts.cuda_build,
                     "gpus": [asdict(g) for g in facts.gpus], "driver_seen": self.driver_seen},
            "mps": facts.mps_available,
            "device": {"asked": self.device, "resolved": self.resolved_device},
            "course": {"id": self.course_id, "root": self.course_root, "steps": self.steps,
                       "problems": list(self.course_problems)},
            "workspace": self.workspace,
            "progress_file": self.progress_file,
            "progress_warnings": list(self.progress_warnings),
            "data": {"dir": self.data_dir, "summary": self.data_summary},
            "sandbox": [p.to_json() for p in self.sandbox],
        }


def diagnose(session: Session, machine: Machine) -> DoctorReport:
    device = session.checker.device
    data = datasets.status(datasets.default_data_dir())
    course = session.course
    return DoctorReport(
        python=platform.python_version(),
        torch=machine.torch_facts(),
        device=device,
        resolved_device=devices.resolve(device),
        driver_seen=devices.cuda_may_exist(),
        course_id=course.id,
        course_root=str(course.root),
        steps=len(course.steps()),
        course_problems=tuple(str(p) for p in course.problems),
        workspace=str(session.workspace.root),
        progress_file=str(session.store.path),
        progress_warnings=tuple(session.store.warnings),
        data_dir=str(data.data_dir),
        data_summary=data.summary(),
        sandbox=tuple(machine.protections()),
    )
