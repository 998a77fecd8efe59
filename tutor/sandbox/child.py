"""The worker process: runs a step's setup and one program (learner or reference) and
reports what the probes ask for, as one framed message on a private channel.

Started as ``python -I -u -B -m tutor.sandbox.child FD [--lifeline FD]`` in a fresh
directory. It reads one request from stdin, limits itself, forks its sentinel (which ends it
should the tutor die: ``tutor.sandbox.sentinel``), isolates itself (``isolation.apply``, while
still single-threaded: before torch is imported here, right after the fork in a warm
worker), says ``Started`` on ``FD`` as the step's code starts (and from then on counts its CPU
time against the step's limit), runs the code and writes the result, with the isolation
report and the CPU it used, to ``FD``.
A spare (``FD --preload READY_FD``) imports torch first, says so with one byte on
``READY_FD`` and only then waits for its request; limits and isolation still come before
any lesson or learner code, and a layer that needs a single thread is skipped and reported
if the import started threads (it does not with ``OMP_NUM_THREADS=1``).
A reference worker started with ``judge`` then waits for the learner's result and
evaluates the step's metrics on it: the learner's code never runs in this process.

Every failure becomes a status and, where there is one, the exception's type, message and
the learner's frames; the words the learner reads are chosen by the tutor, not here.
"""

from __future__ import annotations

import builtins
import contextlib
import copy
import linecache
import math
import os
import resource
import shutil
import sys
import types
import zlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tutor.sandbox import wire as w

REQUEST_LIMIT = 64 * 1024 * 1024


def main() -> None:
    result_fd = int(sys.argv[1])
    options = {name: int(value)
               for name, value in zip(sys.argv[2::2], sys.argv[3::2], strict=True)}
    requests = os.fdopen(os.dup(0), "rb")
    _detach_stdin()
    from tutor.core.runs import REQUEST_UNREAD_EXIT
    from tutor.sandbox import isolation, reaper, sentinel
    from tutor.sandbox import wire as w

    reaper.become_subreaper()  # orphans of the learner's code stay in our tree
    if "--preload" in options:
        preload()
        ready_fd = options["--preload"]
        # The tutor stops listening once it has handed this spare a run, which it may do
        # before the import ends: so a closed pipe here is no sign that it went away. The
        # request says that: it comes, or its channel ends (below).
        with contextlib.suppress(OSError):
            _write(ready_fd, b"1")
        os.close(ready_fd)

    try:
        request, _ = w.read_message(requests, w.Request, REQUEST_LIMIT)
    except w.FrameError:  # the tutor went away before it sent one (a spare, say)
        _remove_own_folder()
        os._exit(REQUEST_UNREAD_EXIT)  # said apart from the code's own exit, in its feedback
    apply_limits(request.limits)
    guards: set[int] = set()
    if "--lifeline" in options:
        token = os.environ.get(reaper.TOKEN_VAR, "")
        guards.add(sentinel.guard(options["--lifeline"], os.getcwd(), token))
    worker = Worker(request, isolation.apply(request, os.getcwd()),
                    on_start=lambda started: _write(result_fd, w.pack(started)),
                    send=lambda message: _write(result_fd, message))
    message = worker.run()
    _write(result_fd, message)
    if request.judge and worker.status == "ok":
        learner, blobs = w.read_message(requests, w.Result, request.limits.result_bytes)
        _write(result_fd, worker.judge(learner, blobs))
    sys.stdout.flush()
    reaper.kill_descendants(os.getpid(), keep=guards)  # the sentinel leaves as we end
    os._exit(0)  # skip interpreter teardown: it costs ~0.5 s with torch loaded


def _remove_own_folder() -> None:
    """A worker that never ran removes the folder the tutor made for it (the tutor is gone)."""
    here = os.getcwd()
    if os.path.basename(here).startswith("pytorch-tutor-run-"):
        shutil.rmtree(here, ignore_errors=True)


def preload() -> None:
    """Import what runs need before any request exists: torch (import only: no ops, no
    CUDA), numpy, torchvision where installed, and the worker's own modules."""
    import numpy  # noqa: F401
    import torch  # noqa: F401

    with contextlib.suppress(Exception):
        # data lessons need it (importing costs seconds), and it brings torch._dynamo,
        # which a fresh worker's first optimizer would otherwise import (seconds more)
        import torchvision  # noqa: F401

    from tutor.sandbox import encode, explain, isolation, showing, wire  # noqa: F401

    isolation.warm_up()
    wire.warm_up()


def _detach_stdin() -> None:
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def apply_limits(limits: w.ChildLimits) -> None:
    """Own rlimits; each is optional so a platform that refuses one still runs the code.
    The CPU limit holds start-up and the code together until ``start_clock`` narrows it."""
    for value, which in (
        (limits.cpu_s and limits.cpu_s + limits.start_cpu_s, resource.RLIMIT_CPU),
        (limits.data_bytes, resource.RLIMIT_DATA),
        (limits.fsize_bytes, resource.RLIMIT_FSIZE),
        (limits.nofile, resource.RLIMIT_NOFILE),
    ):
        if value:
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(which, (value, value))
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def start_clock(limits: w.ChildLimits) -> w.Started:
    """The step's code starts now: from here it may use ``limits.cpu_s`` of CPU (SIGXCPU,
    then SIGKILL two seconds later should it ignore that). Returns what was used so far."""
    from tutor.sandbox import wire as w
    from tutor.sandbox.usage import own_usage

    cpu, waited = own_usage()
    if limits.cpu_s:
        with contextlib.suppress(ValueError, OSError):
            _, hard = resource.getrlimit(resource.RLIMIT_CPU)
            soft = math.ceil(cpu) + limits.cpu_s
            if hard != resource.RLIM_INFINITY:
                soft = min(soft, hard)
                hard = min(hard, soft + 2)
            else:
                hard = soft + 2
            resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    return w.Started(cpu_s=cpu, wait_s=waited)


class Worker:
    """Runs one program and its probes; every failure becomes a status, never a crash."""

    def __init__(self, request: w.Request, isolation: dict[str, Any] | None = None,
                 on_start: Any = None, send: Any = None):
        self.request = request
        self.isolation = isolation or {}
        self.on_start = on_start  # told ``Started`` as the step's code starts
        self.send = send  # writes a framed picture or report (``show``, ``report``)
        self.filename = request.filename
        self.status = "ok"
        self.ns: dict[str, Any] = {}

    # ------------------------------------------------------------------ running
    def run(self) -> bytes:
        from tutor.sandbox import wire as w
        from tutor.sandbox.encode import Encoder, TooLarge

        layers = {name: w.Layer(bool(r["active"]), str(r["detail"]))
                  for name, r in self.isolation.items()}
        header = w.Result(status="ok", role=self.request.role, isolation=layers)
        stopped: _Failed | None = None  # the learner's code raised: probe what it defined
        try:
            self.torch = _import_torch(self.request.threads)
            self.device = resolve_device(self.torch, self.request.device)
            header.device = str(self.device)
            started = start_clock(self.request.limits)
            if self.on_start is not None:
                self.on_start(started)
            try:
                self._execute()
            except _Failed as raised:
                if raised.status != "error" or not self.ns:
                    raise
                stopped = raised
            encoder = Encoder(self.request.limits.result_bytes)
            probe = self._probe if stopped is None else self._probe_what_exists
            header.values = {p.id: probe(p, encoder) for p in self.request.probes}
            self._send_shapes(stopped)
        except _Failed as probe_failed:
            failed = stopped or probe_failed  # an error in the code comes before a probe's
            self.status = failed.status
            header.status, header.error, header.failed_in = failed.status, failed.error, failed.where
            header.values = {}
            return _packed(header)
        except TooLarge:
            if stopped is not None:  # what the code did before the error is too large: say
                header.values = {}  # the error alone
                encoder = Encoder(0)
            else:
                self.status = header.status = "too_large"
                return _packed(header)
        if stopped is not None:
            self.status = header.status = stopped.status
            header.error = stopped.error
        return _packed(header, encoder.blobs)

    def _execute(self) -> None:
        torch = self.torch
        seed = self.request.seed
        torch.manual_seed(seed)
        import random

        random.seed(seed)
        try:
            import numpy

            numpy.random.seed(seed % (2**32))
        except ImportError:
            pass
        # A real __main__ module, so classes defined here can be pickled (torch.save(model)).
        main = types.ModuleType("__main__")
        sys.modules["__main__"] = main
        self.ns = main.__dict__
        self.ns.update(__builtins__=builtins, device=self.device, DATA_DIR=self.request.data_dir)
        from tutor.sandbox.showing import Sight

        self.ns.update(Sight(torch, self.send or (lambda message: None)).names())
        if self.request.setup:
            self._exec(self.request.setup, "<setup>", author=True)
        self._exec(self.request.code, self.filename, author=False)

    def _send_shapes(self, stopped: _Failed | None) -> None:
        """Shapes at a glance (``tutor.sandbox.shapes``), after the probes so that they
        cannot change a verdict; a failure here only leaves them out."""
        if not (self.request.shapes and self.send):
            return
        try:
            from tutor.sandbox import wire as w
            from tutor.sandbox.shapes import shapes

            frames = stopped.error.frames if stopped is not None else []
            before = frames[0].line if frames else None
            if stopped is not None and before is None:
                return
            message = shapes(self.torch, self.request.code, self.ns, self.device,
                             self.request.layer_inputs, before)
            if message.names or message.tables:
                self.send(w.pack(message))
        except Exception:
            return

    def _exec(self, source: str, filename: str, author: bool) -> None:
        lines = source.splitlines(keepends=True)
        linecache.cache[filename] = (len(source), None, lines, filename)
        try:
            code = compile(source, filename, "exec")
            exec(code, self.ns)
        except SystemExit as exc:
            raise _Failed("exited", _exit_info(exc, filename)) from None
        except MemoryError as exc:
            raise _Failed("memory", error_info(exc, filename)) from None
        except BaseException as exc:  # the learner's exception, whatever it is
            status = "memory" if _is_oom(exc) else ("setup_error" if author else "error")
            raise _Failed(status, error_info(exc, filename),
                          "setup" if status == "setup_error" else "") from None

    # ------------------------------------------------------------------ probes
    def _probe_what_exists(self, probe: Any, enc: Any) -> Any:
        """After the code raised, a probe that needs what the code never made (a check's
        input from a name defined after the error) is missing, not a failed run: the
        other probes still bring back what the code had made."""
        from tutor.sandbox import wire as w

        try:
            return self._probe(probe, enc)
        except _Failed:
            return w.MissingV()

    def _probe(self, probe: Any, enc: Any) -> Any:
        from tutor.core import runs
        from tutor.sandbox import wire as w

        if isinstance(probe, runs.ValueProbe):
            if probe.name not in self.ns:
                return w.MissingV()
            return enc.value(self.ns[probe.name], with_state=probe.with_state)
        if isinstance(probe, runs.CallProbe):
            return self._call(probe, enc)
        return self._module(probe, enc)

    def _call(self, probe: Any, enc: Any) -> Any:
        from tutor.sandbox import wire as w
        from tutor.sandbox.encode import Encoder

        fn = self.ns.get(probe.name)
        if fn is None:
            return w.MissingV()
        if not callable(fn):
            return enc.value(fn)
        summary = Encoder(self.request.limits.result_bytes, summary=True)
        results, shown_args, shown_kwargs, mutated = [], [], [], []
        labels = _parameter_names(fn, len(probe.args))
        for trial in range(probe.trials):
            sizes = {name: values[trial % len(values)] for name, values in probe.sizes}
            try:
                args = [self._arg(spec, trial, i, sizes) for i, spec in enumerate(probe.args)]
                kwargs = {key: self._arg(spec, trial, 100 + i, sizes)
                          for i, (key, spec) in enumerate(probe.kwargs)}
            except Exception as exc:
                raise _Failed("setup_error", error_info(exc, "<inputs>"), probe.name) from exc
            shown_args.append([summary.value(a) for a in args])
            shown_kwargs.append([(k, summary.value(a)) for k, a in kwargs.items()])
            before = [(label, _snapshot(self.torch, value)) for label, value in
                      [*zip(labels, args, strict=False), *kwargs.items()]]
            results.append(self._guarded(lambda a=args, k=kwargs: fn(*a, **k), enc))
            now = [*args, *kwargs.values()]
            mutated.append([label for (label, was), value in zip(before, now, strict=False)
                            if was is not None and _changed(self.torch, was, value)])
        return w.CalledV(results=results, args=shown_args, kwargs=shown_kwargs, mutated=mutated)

    def _arg(self, spec: Any, trial: int, index: int, sizes: dict[str, int]) -> Any:
        from tutor.core import runs

        torch = self.torch
        seed = (self.request.seed * 1_000_003 + trial * 1009 + index) % (2**63)
        if isinstance(spec, runs.TensorArg):
            return _make_tensor(torch, spec, spec.resolved(sizes), seed, self.device)
        if isinstance(spec, runs.ExprArg):
            torch.manual_seed(seed)
            return eval(spec.expr, dict(self.ns))
        if isinstance(spec, runs.ChoiceArg):
            return copy.deepcopy(spec.values[trial % len(spec.values)])
        return copy.deepcopy(spec.value)

    def _module(self, probe: Any, enc: Any) -> Any:
        from tutor.sandbox import wire as w

        torch = self.torch
        target = self.ns.get(probe.name)
        if target is None:
            return w.MissingV()

        def build() -> Any:
            if isinstance(target, type) and issubclass(target, torch.nn.Module):
                return target().to(self.device)
            return target

        module = self._guarded(build, None)
        if isinstance(module, w.RaisedV):
            return w.BuiltV(module=module)
        if not isinstance(module, torch.nn.Module):
            return w.BuiltV(module=enc.value(module))
        built = w.BuiltV(module=enc.module(module))
        if probe.input_shape:
            seed = self.request.seed
            if probe.same_weights:
                _canonical_weights(torch, module, seed)
                module.eval()
            first = next(iter(module.parameters()), None)
            where = first.device if first is not None else self.device
            gen = torch.Generator().manual_seed(seed)
            x = torch.randn(*probe.input_shape, generator=gen).to(where)

            def forward() -> Any:
                with torch.no_grad():
                    return module(x)

            built.output = self._guarded(forward, enc)
        return built

    def _guarded(self, fn: Any, enc: Any) -> Any:
        """Call learner code from a probe; an exception becomes a ``raised`` value."""
        from tutor.sandbox import wire as w

        try:
            value = fn()
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            return w.RaisedV(error=error_info(exc, self.filename))
        return value if enc is None else enc.value(value)

    # ------------------------------------------------------------------ judging
    def judge(self, learner: w.Result, blobs: list[bytes]) -> bytes:
        """Evaluate the metrics with the learner's values in place of the judge's own."""
        from tutor.sandbox import wire as w
        from tutor.sandbox.encode import Encoder

        encoder = Encoder(self.request.limits.result_bytes)
        results: dict[str, Any] = {}
        for metric in self.request.metrics:
            ns = dict(self.ns)
            try:
                for name, probe_id in metric.learner:
                    node = learner.values.get(probe_id, w.MissingV())
                    ns[name] = self._rebuild(name, w.to_value(node, blobs))
                results[metric.id] = encoder.value(eval(metric.expr, ns))
            except Exception as exc:
                results[metric.id] = w.RaisedV(error=error_info(exc, "<metric>"))
        return w.pack(w.Measured(metrics=results), encoder.blobs)

    def _rebuild(self, name: str, value: Any) -> Any:
        """A decoded learner value as torch objects; modules take the judge's own class.
        A value that cannot be rebuilt raises; the tutor has told the learner why already."""
        from tutor.core import values as v

        torch = self.torch
        if isinstance(value, v.Tensor):
            return _to_torch(torch, value, self.device)
        if isinstance(value, v.Module):
            mine = self.ns.get(name)
            if not isinstance(mine, torch.nn.Module):
                raise TypeError(f"the reference's {name} is not a module")
            rebuilt = copy.deepcopy(mine)
            state = {k: _to_torch(torch, t, self.device) for k, t in (value.state or {}).items()}
            rebuilt.load_state_dict(state)
            rebuilt.train(value.training)
            return rebuilt
        if isinstance(value, list):
            return [self._rebuild(name, item) for item in value]
        if isinstance(value, tuple):
            return tuple(self._rebuild(name, item) for item in value)
        if isinstance(value, dict):
            return {k: self._rebuild(name, item) for k, item in value.items()}
        if value is v.MISSING or isinstance(value, (v.Opaque, v.Raised)):
            raise TypeError(f"{name} cannot be measured")
        return value


def _packed(header: w.Result, blobs: list[bytes] | None = None) -> bytes:
    """The result, with what the worker used by now (the tutor subtracts ``Started``'s)."""
    from tutor.sandbox import wire as w
    from tutor.sandbox.usage import own_usage

    header.cpu_s, header.wait_s = own_usage()
    return w.pack(header, blobs or [])


class _Failed(Exception):
    def __init__(self, status: str, error: w.ErrorV, where: str = ""):
        self.status = status
        self.error = error
        self.where = where


def _import_torch(threads: int) -> Any:
    import torch

    torch.set_num_threads(max(1, int(threads)))
    return torch


def resolve_device(torch: Any, wanted: str) -> Any:
    """``auto`` picks CUDA, then Apple's MPS, then the CPU."""
    if wanted == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    return torch.device(wanted)


def _parameter_names(fn: Any, count: int) -> list[str]:
    """How the function names its first ``count`` parameters (for "changes its input `x`")."""
    import inspect

    try:
        names = [p.name for p in inspect.signature(fn).parameters.values()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        names = []
    return [names[i] if i < len(names) else f"argument {i + 1}" for i in range(count)]


def _snapshot(torch: Any, value: Any) -> Any:
    """A copy of an input to compare after the call: tensors (also inside lists), else None."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, (list, tuple)) and value and all(
            isinstance(v, torch.Tensor) for v in value):
        return [v.detach().clone() for v in value]
    return None


def _changed(torch: Any, before: Any, after: Any) -> bool:
    """Whether the call changed an input in place (its shape or any value; NaN equals NaN)."""
    if isinstance(before, list):
        return not isinstance(after, (list, tuple)) or len(after) != len(before) or any(
            _changed(torch, b, a) for b, a in zip(before, after, strict=False))
    if not isinstance(after, torch.Tensor) or after.shape != before.shape:
        return True
    now = after.detach()
    if now.dtype != before.dtype:
        return True
    same = now == before
    if now.is_floating_point() or now.is_complex():
        same = same | (now.isnan() & before.isnan())
    return not bool(same.all())


def _make_tensor(torch: Any, spec: Any, shape: tuple[int, ...], seed: int, device: Any) -> Any:
    gen = torch.Generator().manual_seed(seed)
    dtype = getattr(torch, spec.dtype)
    low, high = spec.low, spec.high
    if dtype == torch.bool:
        t = torch.randint(0, 2, shape, generator=gen).bool()
    elif dtype.is_floating_point or dtype.is_complex:
        if low is None and high is None:
            t = torch.randn(shape, generator=gen).to(dtype)
        else:
            lo, hi = float(low or 0.0), float(1.0 if high is None else high)
            t = (torch.rand(shape, generator=gen) * (hi - lo) + lo).to(dtype)
    else:
        lo, hi = int(low or 0), int(10 if high is None else high)
        t = torch.randint(lo, hi, shape, generator=gen, dtype=dtype)
    t = t.to(device)
    if spec.requires_grad:
        t.requires_grad_(True)
    return t


def _canonical_weights(torch: Any, module: Any, seed: int) -> None:
    """Give every floating parameter a value that depends only on its name and the seed,
    so a learner's module and the reference hold identical weights without sharing any."""
    with torch.no_grad():
        for name, param in module.named_parameters():
            if not param.dtype.is_floating_point:
                continue
            gen = torch.Generator().manual_seed((seed * 7919 + zlib.crc32(name.encode())) % 2**63)
            values = torch.randn(param.shape, generator=gen) * 0.1
            param.copy_(values.to(param.dtype))


def _to_torch(torch: Any, value: Any, device: Any) -> Any:
    if value.data is None:
        return torch.empty(value.shape, dtype=getattr(torch, value.dtype), device="meta")
    t = torch.from_numpy(value.data.copy()).to(getattr(torch, value.dtype))
    return t.to(device)


def _is_oom(exc: BaseException) -> bool:
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and (
        "can't allocate memory" in text or "out of memory" in text
    )


def error_info(exc: BaseException, filename: str) -> w.ErrorV:
    """The facts of ``exc`` (``tutor.sandbox.explain``): its type, message, the learner's
    frames in ``filename`` and the operands of the expression that failed; no words."""
    from tutor.sandbox import explain

    if isinstance(exc, SyntaxError) and exc.filename == filename:
        return explain.syntax_error(exc)
    return explain.error(exc, filename)


def _exit_info(exc: SystemExit, filename: str) -> w.ErrorV:
    """The exit code as the learner wrote it (``repr``), and where they exited."""
    from tutor.sandbox import wire as w

    return w.ErrorV("SystemExit", repr(exc.code)[:200], _learner_frames(exc, filename))


def _learner_frames(exc: BaseException, filename: str) -> list[w.FrameV]:
    from tutor.sandbox import explain

    return explain.wire_frames(explain.learner_frames(exc, filename))


if __name__ == "__main__":
    main()
