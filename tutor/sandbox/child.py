"""The worker process: runs a step's setup and one program (learner or reference) and
reports what the probes ask for, as one framed message on a private channel.

Started as ``python -I -u -B -m tutor.sandbox.child FD`` in a fresh directory. It reads
one request from stdin, limits and isolates itself (``isolation.apply``, while still
single-threaded: before torch is imported here, right after the fork in a warm worker),
runs the code and writes the result, with the isolation report, to ``FD``.
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
import os
import resource
import sys
import traceback
import types
import zlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tutor.sandbox import wire as w

REQUEST_LIMIT = 64 * 1024 * 1024


def main() -> None:
    result_fd = int(sys.argv[1])
    requests = os.fdopen(os.dup(0), "rb")
    _detach_stdin()
    from tutor.sandbox import isolation, reaper
    from tutor.sandbox import wire as w

    reaper.become_subreaper()  # orphans of the learner's code stay in our tree
    if sys.argv[2:3] == ["--preload"]:
        preload()
        ready_fd = int(sys.argv[3])
        _write(ready_fd, b"1")
        os.close(ready_fd)

    request, _ = w.read_message(requests, w.Request, REQUEST_LIMIT)
    apply_limits(request.limits)
    worker = Worker(request, isolation.apply(request, os.getcwd()))
    message = worker.run()
    _write(result_fd, message)
    if request.judge and worker.status == "ok":
        learner, blobs = w.read_message(requests, w.Result, request.limits.result_bytes)
        _write(result_fd, worker.judge(learner, blobs))
    sys.stdout.flush()
    reaper.kill_descendants(os.getpid())
    os._exit(0)  # skip interpreter teardown: it costs ~0.5 s with torch loaded


def preload() -> None:
    """Import what runs need before any request exists: torch (import only: no ops, no
    CUDA), numpy, torchvision where installed, and the worker's own modules."""
    import numpy  # noqa: F401
    import torch  # noqa: F401

    with contextlib.suppress(Exception):
        import torchvision  # noqa: F401  (data lessons need it; importing costs seconds)

    from tutor.sandbox import encode, isolation, wire  # noqa: F401

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
    """Own rlimits; each is optional so a platform that refuses one still runs the code."""
    for value, which in (
        (limits.cpu_s, resource.RLIMIT_CPU),
        (limits.data_bytes, resource.RLIMIT_DATA),
        (limits.fsize_bytes, resource.RLIMIT_FSIZE),
        (limits.nofile, resource.RLIMIT_NOFILE),
    ):
        if value:
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(which, (value, value))
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


class Worker:
    """Runs one program and its probes; every failure becomes a status, never a crash."""

    def __init__(self, request: w.Request, isolation: dict[str, Any] | None = None):
        self.request = request
        self.isolation = isolation or {}
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
        try:
            self.torch = _import_torch(self.request.threads)
            self.device = resolve_device(self.torch, self.request.device)
            header.device = str(self.device)
            self._execute()
            encoder = Encoder(self.request.limits.result_bytes)
            header.values = {probe.id: self._probe(probe, encoder)
                             for probe in self.request.probes}
        except _Failed as failed:
            self.status = failed.status
            header.status, header.error, header.failed_in = failed.status, failed.error, failed.where
            return w.pack(header)
        except TooLarge:
            self.status = header.status = "too_large"
            return w.pack(header)
        return w.pack(header, encoder.blobs)

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
        if self.request.setup:
            self._exec(self.request.setup, "<setup>", author=True)
        self._exec(self.request.code, self.filename, author=False)

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
        results, shown_args, shown_kwargs = [], [], []
        for trial in range(probe.trials):
            try:
                args = [self._arg(spec, trial, i) for i, spec in enumerate(probe.args)]
                kwargs = {key: self._arg(spec, trial, 100 + i)
                          for i, (key, spec) in enumerate(probe.kwargs)}
            except Exception as exc:
                raise _Failed("setup_error", error_info(exc, "<inputs>"), probe.name) from exc
            shown_args.append([summary.value(a) for a in args])
            shown_kwargs.append([(k, summary.value(a)) for k, a in kwargs.items()])
            results.append(self._guarded(lambda a=args, k=kwargs: fn(*a, **k), enc))
        return w.CalledV(results=results, args=shown_args, kwargs=shown_kwargs)

    def _arg(self, spec: Any, trial: int, index: int) -> Any:
        from tutor.core import runs

        torch = self.torch
        seed = (self.request.seed * 1_000_003 + trial * 1009 + index) % (2**63)
        if isinstance(spec, runs.TensorArg):
            return _make_tensor(torch, spec, seed, self.device)
        if isinstance(spec, runs.ExprArg):
            torch.manual_seed(seed)
            return eval(spec.expr, dict(self.ns))
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


def _make_tensor(torch: Any, spec: Any, seed: int, device: Any) -> Any:
    gen = torch.Generator().manual_seed(seed)
    shape = tuple(spec.shape)
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
    from tutor.sandbox import wire as w

    if isinstance(exc, SyntaxError) and exc.filename == filename:
        text = (exc.text or "").rstrip("\n")
        return w.ErrorV("SyntaxError", exc.msg, [w.FrameV(exc.lineno, "", text)])
    return w.ErrorV(type(exc).__name__, str(exc)[:4000], _learner_frames(exc, filename))


def _exit_info(exc: SystemExit, filename: str) -> w.ErrorV:
    """The exit code as the learner wrote it (``repr``), and where they exited."""
    from tutor.sandbox import wire as w

    return w.ErrorV("SystemExit", repr(exc.code), _learner_frames(exc, filename))


def _learner_frames(exc: BaseException, filename: str) -> list[w.FrameV]:
    from tutor.sandbox import wire as w

    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename]
    return [w.FrameV(f.lineno, "" if f.name == "<module>" else f.name, f.line or "")
            for f in frames]


if __name__ == "__main__":
    main()
