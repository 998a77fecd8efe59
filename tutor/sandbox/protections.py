"""Which protections around learner code are active on this machine, found by trying them.

Each kernel layer is tried in a forked child (whatever it changes dies with the child), the
way a worker applies it; nothing is read from sysctls, which say too little (Ubuntu's
AppArmor user-namespace restriction, for one, shows in no sysctl a program can trust).
With an NVIDIA driver, the CUDA probe (``tutor.sandbox.gpu``) says which layers GPU runs keep:
one it left off is listed as "<layer> for GPU runs", inactive, with the reason.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

from tutor.core.doctor import Protection
from tutor.core.runs import Limits
from tutor.sandbox import gpu, isolation, reaper
from tutor.sandbox.zygote import WARM_RUNS_SHARING

GPU_SUFFIX = " for GPU runs"  # a layer's entry for CUDA runs, beside the one for CPU runs
GPU_LAYERS = (("namespaces", "network isolation"), ("landlock", "filesystem isolation"))


def _try_in_fork(action: Callable[[], object], timeout: float = 10.0) -> tuple[bool, str]:
    """Run ``action`` in a forked child; (True, what it returned) or (False, why it failed)."""
    if not hasattr(os, "fork"):
        return False, "needs fork (Linux or macOS)"
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        try:
            answer = "1" + str(action() or "")
        except BaseException as exc:
            answer = "0" + (str(exc) or type(exc).__name__)
        os.write(write_fd, answer.encode(errors="replace")[:4000])
        os._exit(0)
    os.close(write_fd)
    try:
        ready, _, _ = select.select([read_fd], [], [], timeout)
        data = os.read(read_fd, 4096).decode(errors="replace") if ready else ""
    finally:
        os.close(read_fd)
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    if not data:
        return False, "the trial did not answer"
    return data[0] == "1", data[1:]


# --------------------------------------------------------------------------- trials


def _rlimits() -> str:
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, hard))
    if resource.getrlimit(resource.RLIMIT_FSIZE)[0] != 1 << 20:
        raise OSError("setrlimit had no effect")
    return ""


def _namespaces() -> str:
    detail = isolation.enter_namespaces()
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.sendto(b"x", ("127.0.0.1", 9))
    except OSError:
        return detail
    finally:
        probe.close()
    raise OSError("the namespace still reaches 127.0.0.1")


def _shm(name: str) -> str:
    """Mount the private /dev/shm as a worker does and write ``name`` in it."""
    isolation.enter_namespaces()
    detail = isolation.private_shm(1024 * 1024)
    with open(os.path.join(isolation.SHM, name), "w") as f:
        f.write("x")
    return detail


def _process_count() -> str:
    try:
        isolation.enter_namespaces()
    except OSError as exc:
        raise OSError(f"needs a user namespace ({exc})") from None
    detail = isolation.limit_processes(4, in_userns=True)
    started = []
    try:
        for _ in range(8):
            pid = os.fork()
            if pid == 0:
                time.sleep(5)
                os._exit(0)
            started.append(pid)
    except OSError:
        return detail
    finally:
        for pid in started:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    raise OSError("RLIMIT_NPROC did not stop a fork")


def _landlock(check: str) -> tuple[bool, str]:
    """Landlock a forked child to one folder, then try what it should deny."""
    allowed = tempfile.mkdtemp(prefix="pytorch-tutor-doctor-")
    other = tempfile.mkdtemp(prefix="pytorch-tutor-doctor-")

    def trial() -> str:
        detail = isolation.restrict(allowed, [other], [])
        _expect_denied(check, allowed, other)
        return detail

    try:
        return _try_in_fork(trial)
    finally:  # here: the sandboxed child may not remove them
        for path in (allowed, other):
            shutil.rmtree(path, ignore_errors=True)


def _expect_denied(check: str, allowed: str, other: str) -> None:
    try:
        if check == "files":
            with open(os.path.join(allowed, "ok"), "w") as f:
                f.write("ok")
            open(os.path.join(other, "denied"), "w").close()
        elif check == "tcp":
            with socket.create_connection(("127.0.0.1", 9), timeout=2):
                pass
        elif check == "signals":
            os.kill(os.getppid(), 0)
    except PermissionError:
        return
    except OSError as exc:
        raise OSError(f"not enforced ({exc.strerror})") from None
    raise OSError("not enforced")


def _cgroup() -> str:
    return isolation.join_cgroup(f"doctor-{os.getpid()}", 8)


def _optional(command: list[str], what: str) -> tuple[bool, str]:
    if shutil.which(command[0]) is None:
        return False, f"not installed ({what}; optional)"
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"present but failed: {exc} (optional)"
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or ["exit status " + str(done.returncode)])[-1]
        return False, f"present but unusable here: {why[:200]} (optional)"
    return False, f"available, not used: the layers above cover it ({what})"


# --------------------------------------------------------------------------- report


def _subreaper() -> str:
    if not reaper.become_subreaper():
        raise OSError("PR_SET_CHILD_SUBREAPER refused")
    return ""


def detect() -> list[Protection]:
    linux = sys.platform.startswith("linux")
    subreaper, _ = _try_in_fork(_subreaper)
    rlimits, _ = _try_in_fork(_rlimits)
    found = [
        Protection("separate process", True,
                   "your code never runs in the tutor's process; results cross a private pipe"),
        Protection("framed results", True,
                   "results are length-checked JSON and raw numbers: no pickle, no torch.load; "
                   "the verdict is decided in the tutor"),
        Protection("clean interpreter", True,
                   "python -I: a torch.py in your folder cannot shadow torch; "
                   "environment reduced to an allowlist"),
        Protection("process tree kill", subreaper,
                   "subreaper + run token: children and setsid() grandchildren are killed"
                   if subreaper else "only the process group is killed on this platform"),
        Protection("resource limits", rlimits,
                   "CPU time of the step's code (its `timeout`, counted from when it starts: "
                   "a busy machine does not stop it), memory (RLIMIT_DATA, not on CUDA), file "
                   "size, open files, no core" if rlimits else "rlimits are not available here"),
        Protection("wall-clock timeout", True,
                   "a backstop (3 x the step's timeout + 10 s) for code that sleeps or waits; "
                   "the whole tree is killed at the limit; output is capped"),
        Protection("nothing outlives the tutor", hasattr(os, "fork"),
                   "a sentinel per run ends it and removes its folder however the tutor ends "
                   "(kill -9 included); stale folders are swept at start"
                   if hasattr(os, "fork") else "needs fork"),
    ]
    if not linux:
        return found + [Protection(name, False, "Linux only") for name in (
            "network isolation", "filesystem isolation", "private /dev/shm", "TCP block",
            "signal scoping", "process count", "process cgroup")] + [_gpu()]
    return found + _kernel_layers() + [_gpu(), *gpu_layers()] + _optional_layers()


def _kernel_layers() -> list[Protection]:
    layers = []
    ok, why = _try_in_fork(_namespaces)
    layers.append(Protection("network isolation", ok, (
        "own user + network namespace: no network at all (TCP and UDP)") if ok
        else f"not available: {why}"))
    abi = isolation.landlock_abi()
    files, why = _landlock("files")
    layers.append(Protection("filesystem isolation", files, (
        f"Landlock {why.split(':')[0]}: writes only in the run's folder and its private "
        "/dev/shm; the course's solutions, progress.json, your home and your other steps "
        "cannot be read") if files else f"not available: {why}"))
    layers.append(_shm_layer(files))
    ok, why = _landlock("tcp") if abi >= 4 else (False, "needs Landlock ABI 4 "
                                                                f"(Linux 6.7); this is {abi}")
    layers.append(Protection("TCP block", ok,
                             "Landlock: no TCP connect or bind, even without the namespace"
                             if ok else f"not available: {why}"))
    ok, why = _landlock("signals") if abi >= 6 else (
        False, f"needs Landlock ABI 6 (Linux 6.12); this is {abi}")
    layers.append(Protection("signal scoping", ok,
                             "Landlock: your code cannot signal (kill) the tutor or its other runs"
                             if ok else f"not available: {why}"))
    per_run = Limits().processes
    ok, why = _try_in_fork(_process_count)
    layers.append(Protection("process count", ok, (
        f"RLIMIT_NPROC in the fresh user namespace: at most {per_run} processes per run")
        if ok else f"not active: {why}"))
    ok, why = _try_in_fork(_cgroup)
    _remove_doctor_cgroups()
    layers.append(Protection("process cgroup", ok, (
        f"pids.max: {per_run} processes per cold run, {per_run * WARM_RUNS_SHARING} shared by "
        "the warm runs of one tutor") if ok else f"not available: {why}"))
    return layers


def _shm_layer(landlock: bool) -> Protection:
    name = f"pytorch-tutor-doctor-{os.getpid()}"
    ok, why = _try_in_fork(lambda: _shm(name))
    leaked = os.path.join(isolation.SHM, name)
    if os.path.exists(leaked):  # the tmpfs was not private after all
        with contextlib.suppress(OSError):
            os.remove(leaked)
        ok, why = False, "what a run wrote there was seen outside it"
    if ok:
        return Protection("private /dev/shm", True, (
            f"each run gets its own ({isolation.SHM_BYTES // (1024 * 1024)} MiB tmpfs in a "
            "mount namespace), seen by no other process and gone with the run"))
    if landlock:
        return Protection("private /dev/shm", True, f"not private here ({why}), so Landlock "
                          "denies the machine's /dev/shm (DataLoader workers cannot use it)")
    return Protection("private /dev/shm", False, f"shared with the machine: {why}")


def gpu_layers() -> list[Protection]:
    """The layers GPU runs keep, as the CUDA probe found them (none without a driver)."""
    found = gpu.plan()
    if not found.probed:
        return []
    if not found.usable:
        return [Protection("GPU runs", False, f"{found.detail}; `auto` runs on the CPU, "
                           "with every layer; a run asked for cuda gets every layer too")]
    listed = [Protection("GPU runs", True, found.detail)]
    for layer, name in GPU_LAYERS:
        if layer in found.off:
            listed.append(Protection(name + GPU_SUFFIX, False, found.off[layer]))
        else:
            listed.append(Protection(name + GPU_SUFFIX, True, "CUDA initialised under it"))
    return listed


def _remove_doctor_cgroups() -> None:
    with contextlib.suppress(OSError, ValueError):
        base, _ = isolation.cgroup_base()
        parent = os.path.join(base, isolation.CGROUP_PARENT)
        for name in os.listdir(parent):
            if name.startswith("doctor-"):
                with contextlib.suppress(OSError):
                    os.rmdir(os.path.join(parent, name))


def _gpu() -> Protection:
    return Protection("GPU sharing", True, (
        f"at most {isolation.gpu_runs()} GPU runs of yours at once ({isolation.GPU_RUNS_ENV}; "
        f"locks in {isolation.gpu_lock_dir()}); CUDA_VISIBLE_DEVICES is respected; a run's "
        "GPU memory is freed when its process tree is killed"))


def _optional_layers() -> list[Protection]:
    systemd = _optional(["systemd-run", "--user", "--scope", "--quiet", "true"],
                        "cgroup v2 through systemd-run --user")
    bwrap = _optional(["bwrap", "--ro-bind", "/", "/", "--unshare-net", "true"], "bubblewrap")
    return [Protection("systemd user scope", *systemd), Protection("bubblewrap", *bwrap)]
