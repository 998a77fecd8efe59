"""What the core asks of whatever runs code: the runner protocols and their data.

The sandbox implements ``Runner`` and ``RunHandle`` (cold interpreters, a warm forking parent,
spare interpreters) and decodes what a worker sends into ``tutor.core.values``. The core
states *what* to run and *what to bring back* (probes); the sandbox reports *what happened*
as a structured status, and every word the learner reads about it is chosen by the core
(``tutor.core.run_feedback``). Probes and arguments are msgspec Structs because they cross
to the worker as they are.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Protocol

import msgspec
from msgspec import Meta

from tutor.core.declare import FieldError
from tutor.core.fields import ITEM_BYTES, MAX_RANK, DType, Name
from tutor.core.values import Event

MiB = 1024 * 1024
DEFAULT_TIMEOUT_S = 20.0
REQUEST_UNREAD_EXIT = 75  # a worker that could not read its request ends so (EX_TEMPFAIL)

Role = Literal["learner", "reference"]
# ok: values came back. The rest say why not:
#   error          the code raised (``error``)            setup_error  the lesson's setup raised
#   exited         the code ended the process early       timeout      past the wall-clock backstop
#   cpu_time       past the CPU-time limit (SIGXCPU)      memory       out of memory (``error``)
#   killed         SIGKILL from outside (memory, mostly)  file_too_large  wrote past FSIZE
#   crashed        another signal (``signal``)            output_limit printed past the cap
#   too_large      the values exceed the result cap       protocol     forged or broken channel
#   cancelled      the learner cancelled
Status = Literal[
    "ok", "error", "setup_error", "exited", "timeout", "cpu_time", "memory", "killed",
    "file_too_large", "crashed", "output_limit", "too_large", "protocol", "cancelled",
]


@dataclass(frozen=True)
class Limits:
    """What one run may use; the sandbox enforces each where the platform lets it.

    The limit that stops a runaway program is ``timeout_s`` of CPU time, counted from when
    the step's code starts (not the interpreter's start or the torch import), so a busy
    machine does not stop a correct program; the wall clock is a backstop, for a program
    that sleeps or waits: ``wall_s`` from the same moment, ``start_s`` before it."""

    timeout_s: float = DEFAULT_TIMEOUT_S  # CPU seconds of the step's code
    wall_s: float | None = None  # the backstop from the code's start; None: 3 x timeout + 10
    start_s: float = 120.0  # from the run's start to its code's (a busy machine, a GPU slot)
    memory_bytes: int | None = 4096 * MiB  # not applied to CUDA runs
    fsize_bytes: int = 64 * MiB
    nofile: int = 1024
    output_bytes: int = 1 * MiB  # stdout beyond this stops the run
    stderr_bytes: int = 256 * 1024  # stderr beyond this is dropped
    result_bytes: int = 64 * MiB  # values beyond this are refused as too large
    processes: int = 256  # processes and threads of one run, where a layer can bound them

    @property
    def wall_limit_s(self) -> float:
        return self.wall_s if self.wall_s is not None else self.timeout_s * 3 + 10


# --------------------------------------------------------------------------- probes


SizeOrName = Annotated[int, Meta(ge=0)] | Name
SizedShape = Annotated[tuple[SizeOrName, ...], Meta(
    max_length=MAX_RANK,
    description="the size of each axis: a number, or a name from the check's `sizes` that "
                "takes another value in each trial (a batch of one, other image sizes)")]


class TensorArg(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True,
                tag="tensor"):
    """A tensor the worker generates from the run's seed, fresh for every trial: normal
    values, or uniform in [low, high) when either is given (integers: [0, 10) by default)."""

    shape: SizedShape
    dtype: DType = "float32"
    low: Annotated[float | None, Meta(description="uniform values from here (0 if only high)")] = None
    high: Annotated[float | None, Meta(description="up to here, excluded (1; 10 for integers)")] = None
    requires_grad: bool = False

    def __post_init__(self) -> None:
        self.check_size({})

    def check_size(self, sizes: dict[str, tuple[int, ...]]) -> None:
        """Refuse a tensor too large to check, with named sizes at their largest."""
        numbers = [s if isinstance(s, int) else max(sizes.get(s, (0,))) for s in self.shape]
        size = math.prod(numbers) * ITEM_BYTES[self.dtype]
        if size > Limits.result_bytes:
            raise FieldError("shape", f"a tensor of shape {numbers} holds "
                                      f"{size / MiB:,.0f} MiB, more than a check can bring "
                                      f"back ({Limits.result_bytes // MiB} MiB)")

    def resolved(self, sizes: dict[str, int]) -> tuple[int, ...]:
        """The shape of one trial: each named size as that trial chose it."""
        return tuple(s if isinstance(s, int) else sizes[s] for s in self.shape)


class ExprArg(msgspec.Struct, frozen=True, tag="expr"):
    """A Python expression the worker evaluates in the step's namespace after the code;
    ``shown_as`` is how messages name its value ("the test set's loader")."""

    expr: str
    shown_as: str = ""

    def __post_init__(self) -> None:
        problem = expression_problem(self.expr)
        if problem:
            raise FieldError("expr", problem)


class ValueArg(msgspec.Struct, frozen=True, tag="value"):
    """A literal value (JSON-like)."""

    value: Any


class ChoiceArg(msgspec.Struct, frozen=True, tag="choose"):
    """One of several literal values: trial k takes the k-th (cycling), so that a function
    is tried on other values of a scalar argument too."""

    values: tuple[Any, ...]


def expression_problem(expr: str) -> str:
    """Why ``expr`` is not a Python expression, or ""."""
    try:
        ast.parse(expr, mode="eval")
    except SyntaxError as exc:
        return f"expression {expr!r} does not parse: {exc.msg}"
    return ""


Arg = TensorArg | ExprArg | ValueArg | ChoiceArg


class Probe(msgspec.Struct, frozen=True, kw_only=True, tag_field="probe"):
    """Something to bring back after the code ran; ``id`` is the core's, echoed untouched."""

    id: str
    name: str  # the name in the program's namespace


class ValueProbe(Probe, frozen=True, kw_only=True, tag="value"):
    """The value of a name (``MISSING`` when undefined); modules with their weights if
    ``with_state``, so a judge can rebuild them."""

    with_state: bool = False


class CallProbe(Probe, frozen=True, kw_only=True, tag="call"):
    """Call a function ``trials`` times on generated arguments (``Called``); trial k gives
    each named size of ``sizes`` its k-th value (cycling), the same for every argument."""

    sizes: tuple[tuple[str, tuple[int, ...]], ...] = ()
    args: tuple[Arg, ...] = ()
    kwargs: tuple[tuple[str, Arg], ...] = ()
    trials: int = 1


class ModuleProbe(Probe, frozen=True, kw_only=True, tag="module"):
    """Build a module (a class is called with no arguments) and run it on a generated input
    (``Built``); ``same_weights`` gives both runs identical weights by parameter name."""

    input_shape: tuple[int, ...] | None = None
    same_weights: bool = False


AnyProbe = ValueProbe | CallProbe | ModuleProbe


class Metric(msgspec.Struct, frozen=True):
    """An expression a judge run evaluates in its own namespace, with each name of
    ``learner`` bound to the learner's value that the probe of that id brought back."""

    id: str
    expr: str
    learner: tuple[tuple[str, str], ...] = ()  # (name, probe id)


# --------------------------------------------------------------------------- runs


@dataclass(frozen=True)
class RunRequest:
    """One program to run: a step's hidden setup, then ``code``, then the probes.

    A ``judge`` run (a reference) stays alive after its values, waits for a learner's
    result and evaluates ``metrics`` on it: the learner's code never runs in that process.
    """

    role: Role
    code: str
    filename: str = "<your code>"
    setup: str = ""
    probes: tuple[AnyProbe, ...] = ()
    metrics: tuple[Metric, ...] = ()
    judge: bool = False
    seed: int = 0
    device: str = "cpu"
    data_dir: str = ""
    threads: int = 1
    limits: Limits = field(default_factory=Limits)
    # Paths the code may neither read nor write: the course (its solutions), the tutor's
    # home (progress), the learner's home and folder. Enforced where the sandbox can.
    protect: tuple[str, ...] = ()
    # Shapes at a glance (``values.Shapes``): the names the code assigned, and each of these
    # modules (a name, the input its check uses) run once more, layer by layer.
    shapes: bool = False
    layer_inputs: tuple[tuple[str, tuple[int, ...]], ...] = ()


@dataclass
class RunResult:
    """What a run produced, or a structured reason why it produced nothing."""

    status: Status
    # probe id -> decoded value; for ``error``, what the code had defined when it raised
    values: dict[str, Any] = field(default_factory=dict)
    error: Any = None  # a values.ErrorInfo, for error, setup_error and memory
    stdout: str = ""
    stderr: str = ""
    duration_s: float = 0.0
    device: str = ""  # the device the code really ran on
    exit_code: int | None = None  # for exited
    signal: str = ""  # for crashed: "SIGSEGV"
    failed_in: str = ""  # setup_error: "setup", or the probe whose inputs failed; timeout: "start"
    detail: str = ""  # for protocol: what was wrong on the channel (technical)
    # Measured from when the step's code started (None: it never started, or not measured):
    cpu_s: float | None = None  # CPU time the code used
    code_s: float | None = None  # wall-clock time since it started
    waited_s: float | None = None  # time it was ready to run but waited for a CPU (Linux)
    load: float | None = None  # the machine's load per CPU at the end (1-minute average)
    isolation: dict[str, dict[str, Any]] = field(default_factory=dict)  # layer -> report
    wire: object = None  # the sandbox's own record, forwarded to a judge; never read here

    @property
    def ok(self) -> bool:
        return self.status == "ok"


# What a run streams while it goes: text it printed, or a picture or progress it sent
# (``show(x)``, ``report(...)``), in the order the code made them.
Output = str | Event
OutputCallback = Callable[[Output], None]


class RunHandle(Protocol):
    """A run under way."""

    def wait(self) -> RunResult:
        """Block until the run's values (or its end); a judge run stays alive after."""
        ...

    def judge(self, learner: RunResult) -> dict[str, Any]:
        """For a judge run: evaluate its metrics on ``learner``'s values; metric id -> value."""
        ...

    def cancel(self) -> None: ...

    def close(self) -> None:
        """End the run's processes and release what it held (idempotent)."""
        ...


class Runner(Protocol):
    """Starts runs. Long-lived shells warm it up first so runs start in milliseconds."""

    def start(self, request: RunRequest, on_output: OutputCallback | None = None) -> RunHandle:
        ...

    def warm_up(self) -> None:
        """Start whatever makes later runs fast, in the background (idempotent)."""
        ...

    def wait_ready(self, timeout: float = ...) -> bool:
        """Wait until runs start fast; False when they will start cold."""
        ...

    def close(self) -> None: ...
