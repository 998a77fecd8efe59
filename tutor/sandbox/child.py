"""The worker process: runs a step's setup and one program (learner or reference) and
reports what the checks need, as one framed message on a private channel.

Started as ``python -I -u -B -m tutor.sandbox.child FD`` in a fresh directory. It reads
one request from stdin, limits and isolates itself (``isolation.apply``, while still
single-threaded: before torch is imported here, right after the fork in a warm worker),
runs the code and writes the result, with the isolation report, to ``FD``.
A spare (``FD --preload READY_FD``) imports torch first, says so with one byte on
``READY_FD`` and only then waits for its request; limits and isolation still come before
any lesson or learner code, and a layer that needs a single thread is skipped and reported
if the import started threads (it does not with ``OMP_NUM_THREADS=1``).
A reference worker started with ``judge`` then waits for the learner's exported values
and evaluates the step's metrics on them: the learner's code never runs in this process.
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
from typing import Any


def main() -> None:
    result_fd = int(sys.argv[1])
    requests = os.fdopen(os.dup(0), "rb")
    _detach_stdin()
    from tutor.sandbox import frames, isolation, reaper

    reaper.become_subreaper()  # orphans of the learner's code stay in our tree
    if sys.argv[2:3] == ["--preload"]:
        preload()
        ready_fd = int(sys.argv[3])
        _write(ready_fd, b"1")
        os.close(ready_fd)

    request, _ = frames.read_message(requests)
    apply_limits(request.get("limits", {}))
    worker = Worker(request, isolation.apply(request, os.getcwd()))
    message = worker.run()
    _write(result_fd, message)
    if request.get("judge") and worker.status == "ok":
        learner, blobs = frames.read_message(requests)
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

    from tutor.sandbox import encode, frames, isolation  # noqa: F401

    isolation.warm_up()


def _detach_stdin() -> None:
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def apply_limits(limits: dict[str, int]) -> None:
    """Own rlimits; each is optional so a platform that refuses one still runs the code."""
    table = {
        "cpu_s": resource.RLIMIT_CPU,
        "data_bytes": resource.RLIMIT_DATA,
        "fsize_bytes": resource.RLIMIT_FSIZE,
        "nofile": resource.RLIMIT_NOFILE,
    }
    for key, which in table.items():
        value = limits.get(key)
        if value:
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(which, (value, value))
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


class Worker:
    """Runs one program and its probes; every failure becomes a status, never a crash."""

    def __init__(self, request: dict[str, Any], isolation: dict[str, Any] | None = None):
        self.request = request
        self.isolation = isolation or {}
        self.filename = request.get("filename", "<your code>")
        self.status = "ok"
        self.ns: dict[str, Any] = {}

    # ------------------------------------------------------------------ running
    def run(self) -> bytes:
        from tutor.sandbox import frames

        header: dict[str, Any] = {"status": "ok", "role": self.request.get("role"),
                                  "isolation": self.isolation}
        try:
            self.torch = _import_torch(self.request.get("threads", 1))
            self.device = resolve_device(self.torch, self.request.get("device", "cpu"))
            header["device"] = str(self.device)
            self._execute()
        except _Failed as failed:
            self.status = failed.status
            header.update(status=failed.status, error=failed.error.to_json())
            return frames.pack(header)
        from tutor.sandbox.encode import Encoder, TooLarge

        encoder = Encoder()
        try:
            self.extra: dict[str, dict] = {}
            header["exports"] = {
                probe["id"]: self._probe(probe, encoder) for probe in self.request.get("probes", [])
            }
            header["exports"].update(self.extra)
        except TooLarge as exc:
            self.status = "too_large"
            message = f"{exc}: too large to check. Keep the variables the step asks for small."
            header.update(status="too_large", error={"type": "TooLarge", "message": message})
            return frames.pack(header)
        except Exception as exc:  # the lesson's own check setup (an expr argument) is broken
            self.status = "setup_error"
            info = frames.ErrorInfo(type(exc).__name__, str(exc))
            header.update(status="setup_error", error=info.to_json())
            return frames.pack(header)
        return frames.pack(header, encoder.blobs)

    def _execute(self) -> None:
        torch = self.torch
        seed = int(self.request.get("seed", 0))
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
        self.ns.update(__builtins__=builtins, device=self.device,
                       DATA_DIR=self.request.get("data_dir", ""))
        setup = self.request.get("setup") or ""
        if setup:
            self._exec(setup, "<setup>", author=True)
        self._exec(self.request.get("code", ""), self.filename, author=False)

    def _exec(self, source: str, filename: str, author: bool) -> None:
        lines = source.splitlines(keepends=True)
        linecache.cache[filename] = (len(source), None, lines, filename)
        try:
            code = compile(source, filename, "exec")
            exec(code, self.ns)
        except SystemExit as exc:
            raise _Failed("exited", _error_info(exc, filename, exited=exc.code)) from None
        except MemoryError as exc:
            raise _Failed("memory", _error_info(exc, filename)) from None
        except BaseException as exc:  # the learner's exception, whatever it is
            status = "memory" if _is_oom(exc) else ("setup_error" if author else "error")
            raise _Failed(status, _error_info(exc, filename)) from None

    # ------------------------------------------------------------------ probes
    def _probe(self, probe: dict[str, Any], enc: Any) -> dict:
        kind = probe["kind"]
        if kind in ("var", "export"):
            if probe["name"] not in self.ns:
                return {"t": "missing"}
            return enc.value(self.ns[probe["name"]], with_state=kind == "export")
        if kind == "call":
            return self._call(probe, enc)
        if kind == "module":
            return self._module(probe, enc)
        raise ValueError(f"unknown probe {kind}")

    def _call(self, probe: dict[str, Any], enc: Any) -> dict:
        fn = self.ns.get(probe["name"])
        if fn is None:
            return {"t": "missing"}
        if not callable(fn):
            return enc.value(fn)
        trials: list[dict] = []
        shown: list[list[str]] = []
        for trial in range(int(probe.get("trials", 1))):
            try:
                args = [self._arg(spec, trial, i) for i, spec in enumerate(probe.get("args", []))]
                kwargs = {
                    key: self._arg(spec, trial, 100 + i)
                    for i, (key, spec) in enumerate(probe.get("kwargs", []))
                }
            except Exception as exc:
                raise RuntimeError(f"could not build the inputs of {probe['name']}: {exc}") from exc
            shown.append([_show(v) for v in args] + [f"{k}={_show(v)}" for k, v in kwargs.items()])
            trials.append(self._guarded(lambda a=args, k=kwargs: fn(*a, **k), enc))
        # What each trial was called with, so feedback can show real values (not expressions).
        self.extra[f"{probe['id']}:inputs"] = enc.value(shown)
        return {"t": "list", "items": trials}

    def _arg(self, spec: dict[str, Any], trial: int, index: int) -> Any:
        torch = self.torch
        seed = (int(self.request.get("seed", 0)) * 1_000_003 + trial * 1009 + index) % (2**63)
        if "tensor" in spec:
            return _make_tensor(torch, spec["tensor"], seed, self.device)
        if "expr" in spec:
            torch.manual_seed(seed)
            return eval(spec["expr"], dict(self.ns))
        return copy.deepcopy(spec.get("value"))

    def _module(self, probe: dict[str, Any], enc: Any) -> dict:
        torch = self.torch
        target = self.ns.get(probe["name"])
        if target is None:
            return {"t": "missing"}

        def build() -> Any:
            if isinstance(target, type) and issubclass(target, torch.nn.Module):
                return target().to(self.device)
            return target

        module = self._guarded(build, None)
        if isinstance(module, dict):  # it raised
            return {"t": "dict", "items": [[{"t": "str", "v": "module"}, module]]}
        if not isinstance(module, torch.nn.Module):
            return {"t": "dict", "items": [[{"t": "str", "v": "module"}, enc.value(module)]]}
        items = [[{"t": "str", "v": "module"}, enc.module(module)]]
        shape = probe.get("input")
        if shape:
            seed = int(self.request.get("seed", 0))
            if probe.get("same_weights"):
                _canonical_weights(torch, module, seed)
                module.eval()
            first = next(iter(module.parameters()), None)
            where = first.device if first is not None else self.device
            gen = torch.Generator().manual_seed(seed)
            x = torch.randn(*shape, generator=gen).to(where)

            def forward() -> Any:
                with torch.no_grad():
                    return module(x)

            items.append([{"t": "str", "v": "output"}, self._guarded(forward, enc)])
        return {"t": "dict", "items": items}

    def _guarded(self, fn: Any, enc: Any) -> Any:
        """Call learner code from a probe; an exception becomes a ``raised`` value."""
        try:
            value = fn()
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            return {"t": "raised", "error": _error_info(exc, self.filename).to_json()}
        return value if enc is None else enc.value(value)

    # ------------------------------------------------------------------ judging
    def judge(self, learner: dict, blobs: list[bytes]) -> bytes:
        """Evaluate the metrics with the learner's exported values in place of the judge's."""
        from tutor.sandbox import frames
        from tutor.sandbox.encode import Encoder

        exports = learner.get("exports", {})
        encoder = Encoder()
        results = {}
        for metric in self.request.get("metrics", []):
            ns = dict(self.ns)
            try:
                for name in metric.get("learner", []):
                    value = frames.decode_value(exports.get(f"x:{name}", {"t": "missing"}), blobs)
                    ns[name] = self._rebuild(name, value)
                value = eval(metric["expr"], ns)
                results[metric["id"]] = encoder.value(value)
            except Exception as exc:
                info = frames.ErrorInfo(type(exc).__name__, str(exc))
                results[metric["id"]] = {"t": "raised", "error": info.to_json()}
        return frames.pack({"status": "ok", "metrics": results}, encoder.blobs)

    def _rebuild(self, name: str, value: Any) -> Any:
        """A decoded learner value as torch objects; modules take the judge's own class."""
        from tutor.sandbox import frames

        torch = self.torch
        if value is frames.MISSING:
            raise NameError(f"your code does not define `{name}`")
        if isinstance(value, frames.Tensor):
            return _to_torch(torch, value, self.device)
        if isinstance(value, frames.Module):
            mine = self.ns.get(name)
            if not isinstance(mine, torch.nn.Module):
                raise TypeError(f"`{name}` should be a module like the reference's")
            rebuilt = copy.deepcopy(mine)
            state = {k: _to_torch(torch, v, self.device) for k, v in (value.state or {}).items()}
            rebuilt.load_state_dict(state)
            rebuilt.train(value.training)
            return rebuilt
        if isinstance(value, list):
            return [self._rebuild(name, v) for v in value]
        if isinstance(value, tuple):
            return tuple(self._rebuild(name, v) for v in value)
        if isinstance(value, dict):
            return {k: self._rebuild(name, v) for k, v in value.items()}
        if isinstance(value, frames.Opaque) and value.type == "ellipsis":
            raise TypeError(f"`{name}` is still `...`, the starter's placeholder: replace it "
                            "with your code")
        if isinstance(value, (frames.Opaque, frames.Raised)):
            kind = f"a {value.type}" if isinstance(value, frames.Opaque) else "an error"
            raise TypeError(f"`{name}` is {kind}, which cannot be measured")
        return value


class _Failed(Exception):
    def __init__(self, status: str, error: Any):
        self.status = status
        self.error = error


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


def _make_tensor(torch: Any, spec: dict[str, Any], seed: int, device: Any) -> Any:
    gen = torch.Generator().manual_seed(seed)
    shape = tuple(spec.get("shape", ()))
    dtype = getattr(torch, spec.get("dtype", "float32"))
    low, high = spec.get("low"), spec.get("high")
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
    if spec.get("requires_grad"):
        t.requires_grad_(True)
    return t


def _show(value: Any) -> str:
    """A short description of one generated argument, for messages."""
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    if shape is not None and dtype is not None:
        name = str(dtype).removeprefix("torch.")
        kind = "tensor" if type(value).__module__.startswith("torch") else "array"
        device = str(getattr(value, "device", "cpu"))
        where = "" if device == "cpu" else f" on {device}"
        return f"{_article(name)} {name} {kind} of shape {list(shape)}{where}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeio" else "a"


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


PROCESS_LIMIT_HINT = (". If this came from starting a process (os.fork, subprocess, "
                      "multiprocessing), your code already runs as many processes as it may.")


def _error_info(exc: BaseException, filename: str, exited: Any = None) -> Any:
    from tutor.sandbox.frames import ErrorInfo

    if exited is not None or isinstance(exc, SystemExit):
        code = exc.code if isinstance(exc, SystemExit) else exited
        frames = _learner_frames(exc, filename)
        return ErrorInfo("SystemExit", f"your code called exit({code!r})", frames)
    if isinstance(exc, SyntaxError) and exc.filename == filename:
        text = (exc.text or "").rstrip("\n")
        return ErrorInfo("SyntaxError", exc.msg, [{"line": exc.lineno, "name": "", "text": text}])
    message = str(exc)
    if isinstance(exc, BlockingIOError):  # EAGAIN: what fork() says at the process limit
        message = message[:3000] + PROCESS_LIMIT_HINT
    return ErrorInfo(type(exc).__name__, message[:4000], _learner_frames(exc, filename))


def _learner_frames(exc: BaseException, filename: str) -> list[dict[str, Any]]:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename]
    return [
        {"line": f.lineno, "name": "" if f.name == "<module>" else f.name, "text": (f.line or "")}
        for f in frames
    ]


if __name__ == "__main__":
    main()
