"""The isolation layers: how the read allow-list is built, how each layer degrades, and that
what a worker reports matches what `doctor` detects on this machine."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURE_COURSE, layers, needs, spare_pids

from tutor.core.checker import protected_paths
from tutor.core.loader import load_course
from tutor.core.runs import Limits, RunRequest, RunResult, ValueProbe
from tutor.sandbox import isolation
from tutor.sandbox import wire as w
from tutor.sandbox.runner import SubprocessRunner, child_limits
from tutor.sandbox.spare import SpareRunner
from tutor.sandbox.warm import WarmRunner


def in_fork(action: Callable[[], Any], timeout: float = 20) -> Any:
    """Run ``action`` in a forked child (its isolation dies with it); return its result."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            answer = {"value": action()}
        except BaseException as exc:
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        os.write(write_fd, json.dumps(answer).encode())
        os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as answers:
        deadline = time.monotonic() + timeout
        data = answers.read()
    os.waitpid(pid, 0)
    assert time.monotonic() < deadline
    answer = json.loads(data)
    if "error" in answer:
        raise AssertionError(answer["error"])
    return answer["value"]


# --------------------------------------------------------------------------- the allow-list


def tree(root: Path, *paths: str) -> None:
    for path in paths:
        target = root / path
        if path.endswith("/"):
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("x")


def test_a_root_holding_a_protected_path_is_split_into_its_other_children(tmp_path: Path) -> None:
    tree(tmp_path, "root/a/", "root/f.txt", "root/b/secret/solutions.yaml", "root/b/c/")
    allowed = isolation.readable_paths([str(tmp_path / "root")], [str(tmp_path / "root/b/secret")])
    assert allowed == [str(tmp_path / p) for p in ("root/a", "root/b/c", "root/f.txt")]


def test_a_root_inside_a_protected_path_stays_readable(tmp_path: Path) -> None:
    """Python installed in the home folder (pyenv, conda) must still start."""
    tree(tmp_path, "home/.pyenv/lib/", "home/notes.txt")
    allowed = isolation.readable_paths([str(tmp_path / "home/.pyenv")], [str(tmp_path / "home")])
    assert allowed == [str(tmp_path / "home/.pyenv")]


def test_a_root_that_links_into_a_protected_path_is_dropped(tmp_path: Path) -> None:
    tree(tmp_path, "course/basics.yaml")
    (tmp_path / "link").symlink_to(tmp_path / "course")
    assert isolation.readable_paths([str(tmp_path / "link")], [str(tmp_path / "course")]) == []


def test_nested_roots_need_one_rule(tmp_path: Path) -> None:
    tree(tmp_path, "usr/lib/python/")
    roots = [str(tmp_path / "usr/lib/python"), str(tmp_path / "usr"), str(tmp_path / "missing")]
    assert isolation.readable_paths(roots, []) == [str(tmp_path / "usr")]


def test_the_python_roots_cover_the_interpreter_and_the_tutor_package() -> None:
    import tutor

    roots = isolation.python_roots()
    allowed = isolation.readable_paths(roots, [str(Path.home())])
    for needed in (sys.base_prefix, os.path.dirname(tutor.__file__), "/usr"):
        real = os.path.realpath(needed)
        assert any(real == a or real.startswith(a + "/") for a in allowed), needed


def test_handled_rights_and_features_follow_the_abi() -> None:
    assert isolation.handled_fs(1) == (1 << 13) - 1
    assert isolation.handled_fs(2) & isolation.FS_REFER
    assert not isolation.handled_fs(4) & isolation.FS_IOCTL_DEV
    assert isolation.handled_fs(5) & isolation.FS_IOCTL_DEV
    assert isolation.features(3) == ["files"]
    assert isolation.features(7) == ["files", "TCP", "signals"]


def test_the_checker_protects_the_course_the_tutor_home_and_the_learners_folders(
        home: Path) -> None:
    step = load_course(FIXTURE_COURSE).step("basics.compare")
    protected = protected_paths(step, "/somewhere/basics/step.py")
    assert str(home) in protected and os.path.expanduser("~") in protected
    assert str(FIXTURE_COURSE.resolve()) in protected and "/somewhere/basics" in protected
    assert protected_paths(step, "<reference solution>") == protected[:3]


# --------------------------------------------------------------------------- Landlock


@needs("filesystem isolation")
def test_landlock_allows_the_run_folder_and_the_readable_roots_only(tmp_path: Path) -> None:
    tree(tmp_path, "run/", "data/images.idx", "data/course/basics.yaml", "elsewhere/")

    def trial() -> dict[str, str]:
        isolation.restrict(str(tmp_path / "run"), [str(tmp_path / "data/course")],
                           [str(tmp_path / "data")])
        outcomes = {}
        for name, act in {
            "write run": lambda: (tmp_path / "run/out.txt").write_text("ok"),
            "read data": lambda: (tmp_path / "data/images.idx").read_text(),
            "read course": lambda: (tmp_path / "data/course/basics.yaml").read_text(),
            "write data": lambda: (tmp_path / "data/new.txt").write_text("x"),
            "write elsewhere": lambda: (tmp_path / "elsewhere/x").write_text("x"),
            "write /dev/null": lambda: Path("/dev/null").write_text("x"),
        }.items():
            try:
                act()
                outcomes[name] = "ok"
            except PermissionError:
                outcomes[name] = "denied"
        return outcomes

    assert in_fork(trial) == {"write run": "ok", "read data": "ok", "read course": "denied",
                              "write data": "denied", "write elsewhere": "denied",
                              "write /dev/null": "ok"}
    assert not (tmp_path / "elsewhere/x").exists()


@needs("filesystem isolation")
def test_a_rule_on_a_regular_file_carries_only_file_rights(tmp_path: Path) -> None:
    tree(tmp_path, "model.pt")

    def trial() -> bool:
        ruleset = isolation.Ruleset(isolation.landlock_abi())
        return ruleset.allow(str(tmp_path / "model.pt"), isolation.ALL_FS)  # no EINVAL

    assert in_fork(trial) is True


# --------------------------------------------------------------------------- degrading


def request(device: str = "cpu", **extra: Any) -> w.Request:
    """What a worker reads before it applies the layers, with the limits it would get."""
    return w.Request(role="learner", code="", device=device,
                     limits=child_limits(Limits(), device), **extra)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the layers are Linux's")
def test_a_layer_the_kernel_refuses_is_reported_and_the_rest_still_apply(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """unshare(CLONE_NEWUSER) fails in a multithreaded process: that layer goes, the run
    does not, and the report says why. The worker's own thread count check is bypassed so
    that the kernel is the one refusing; without the bypass the report names the threads."""

    def trial() -> dict:
        stop = threading.Event()
        threading.Thread(target=stop.wait, daemon=True).start()
        try:
            return isolation.apply(request(), str(tmp_path))
        finally:
            stop.set()

    assert in_fork(trial)["namespaces"] == {"active": False, "detail": (
        "needs a single-threaded worker; 2 threads are running")}
    monkeypatch.setattr(isolation, "thread_count", lambda: 1)
    report = in_fork(trial)
    assert report["namespaces"] == {"active": False, "detail": (
        "unshare(CLONE_NEWUSER | CLONE_NEWNET): Invalid argument")}
    assert report["processes"]["active"] is False
    assert "needs a user namespace" in report["processes"]["detail"]
    assert report["landlock"]["active"] is layers()["filesystem isolation"].active


@needs("network isolation")
def test_rlimit_nproc_bounds_a_normal_users_run_from_zero() -> None:
    """In a fresh user namespace RLIMIT_NPROC counts only the run's own processes (root is
    exempt from it, so as root the trial becomes a normal user first, as learners are)."""
    import ctypes
    import resource  # noqa: F401  (loaded while the interpreter's files are still readable)

    def trial() -> int:
        if os.geteuid() == 0:
            os.setgroups([])
            os.setresgid(65534, 65534, 65534)
            os.setresuid(65534, 65534, 65534)
            ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE, lost with the uid change
        isolation.enter_namespaces()
        isolation.limit_processes(8, in_userns=True)
        children = []
        try:
            for _ in range(20):
                pid = os.fork()
                if pid == 0:
                    time.sleep(10)
                    os._exit(0)
                children.append(pid)
        except BlockingIOError:
            pass
        finally:
            for pid in children:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
        return len(children)

    assert in_fork(trial) == 7  # with the run itself, 8


def test_a_cuda_run_keeps_every_layer_the_probe_did_not_leave_off(tmp_path: Path) -> None:
    gpu = w.GpuSlots(dir=str(tmp_path / "gpu"), slots=2)
    report = in_fork(lambda: isolation.apply(request(device="cuda", gpu=gpu), str(tmp_path)))
    assert report["gpu slot"] == {"active": True, "detail": "GPU slot 1 of 2"}
    assert report["namespaces"]["active"] is layers()["network isolation"].active
    assert report["landlock"]["active"] is layers()["filesystem isolation"].active
    off = {"namespaces": "CUDA did not initialise under it at warm-up (RuntimeError: x)"}
    report = in_fork(lambda: isolation.apply(request(device="cuda", gpu=gpu, cuda_off=off),
                                             str(tmp_path)))
    assert report["namespaces"] == {"active": False, "detail": "OFF for GPU runs: " +
                                    off["namespaces"]}
    assert report["landlock"]["active"] is layers()["filesystem isolation"].active


@pytest.mark.parametrize("device", ["cpu", "auto", "mps"])
def test_what_is_not_a_concrete_cuda_device_is_isolated_as_a_cpu_run(tmp_path: Path,
                                                                      device: str) -> None:
    """``auto`` never reaches a worker from the runner; should it, it gets every layer."""
    off = {"namespaces": "x", "landlock": "y"}
    report = in_fork(lambda: isolation.apply(request(device=device, cuda_off=off),
                                             str(tmp_path)))
    assert "gpu slot" not in report
    assert report["namespaces"]["active"] is layers()["network isolation"].active
    assert report["landlock"]["active"] is layers()["filesystem isolation"].active


@needs("filesystem isolation")
def test_landlock_gives_cuda_runs_the_nvidia_device_nodes_and_cpu_runs_none(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tree(tmp_path, "dev/nvidia0", "dev/nvidiactl", "dev/nvidia-uvm", "dev/dri/card0",
         "dev/null", "dev/sda", "run/")
    monkeypatch.setattr(isolation, "DEV", str(tmp_path / "dev"))

    def trial(cuda: bool) -> dict[str, str]:
        isolation.restrict(str(tmp_path / "run"), [], [], cuda=cuda)
        outcomes = {}
        for name in ("nvidia0", "nvidiactl", "nvidia-uvm", "dri/card0", "sda"):
            try:
                with open(tmp_path / "dev" / name, "r+") as f:
                    f.write("x")
                outcomes[name] = "rw"
            except PermissionError:
                outcomes[name] = "denied"
        return outcomes

    assert in_fork(lambda: trial(True)) == {"nvidia0": "rw", "nvidiactl": "rw",
                                            "nvidia-uvm": "rw", "dri/card0": "rw",
                                            "sda": "denied"}
    assert set(in_fork(lambda: trial(False)).values()) == {"denied"}


@needs("filesystem isolation")
def test_without_a_private_dev_shm_landlock_denies_the_machines(tmp_path: Path) -> None:
    tree(tmp_path, "run/")

    def trial(shm: bool) -> dict[str, str]:
        isolation.restrict(str(tmp_path / "run"), [], [], shm=shm)
        outcomes = {}
        for name, act in {"list": lambda: os.listdir("/dev/shm"),
                          "write": lambda: open("/dev/shm/ptt-denied", "w").close(),
                          "null": lambda: open("/dev/null", "w").close()}.items():
            try:
                act()
                outcomes[name] = "ok"
            except PermissionError:
                outcomes[name] = "denied"
        return outcomes

    assert in_fork(lambda: trial(False)) == {"list": "denied", "write": "denied", "null": "ok"}
    assert not Path("/dev/shm/ptt-denied").exists()


@needs("network isolation", "private /dev/shm")
def test_a_runs_dev_shm_is_its_own_bounded_and_gone_after_it() -> None:
    marker = f"ptt-host-{os.getpid()}"
    Path("/dev/shm", marker).write_text("host")
    try:
        def trial() -> list:
            isolation.enter_namespaces()
            detail = isolation.private_shm(1024 * 1024)
            seen = os.listdir("/dev/shm")
            Path("/dev/shm/mine").write_text("x")
            try:
                Path("/dev/shm/big").write_bytes(b"x" * 2 * 1024 * 1024)
                full = False
            except OSError:
                full = True
            return [detail, seen, full]

        detail, seen, full = in_fork(trial)
    finally:
        Path("/dev/shm", marker).unlink()
    assert "private /dev/shm (1 MiB)" in detail
    assert seen == [] and full  # the machine's files unseen; the size bounded
    assert not Path("/dev/shm/mine").exists() and not Path("/dev/shm/big").exists()


def test_gpu_slots_bound_concurrent_gpu_runs_and_free_when_a_run_dies(tmp_path: Path) -> None:
    slots = str(tmp_path / "gpu")
    holders = []
    for _ in range(2):
        ready_r, ready_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            isolation.take_gpu_slot(slots, 2)
            os.write(ready_w, b"1")
            time.sleep(60)
            os._exit(0)
        os.close(ready_w)
        assert os.read(ready_r, 1) == b"1"
        os.close(ready_r)
        holders.append(pid)
    done_r, done_w = os.pipe()
    waiter = os.fork()
    if waiter == 0:
        os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
        os.write(done_w, isolation.take_gpu_slot(slots, 2).encode())
        os._exit(0)
    os.close(done_w)
    try:
        time.sleep(0.5)
        assert os.waitpid(waiter, os.WNOHANG) == (0, 0), "a third GPU run did not wait"
        os.kill(holders[1], signal.SIGKILL)  # a run killed mid-way frees its slot
        os.waitpid(holders[1], 0)
        os.set_blocking(done_r, True)
        assert os.read(done_r, 100).decode() == "GPU slot 2 of 2"
    finally:
        for pid in (holders[0], waiter):
            os.kill(pid, signal.SIGKILL)  # a zombie until reaped, so this cannot miss
            os.waitpid(pid, 0)
        os.close(done_r)


def test_empty_run_cgroups_of_finished_runs_are_removed(tmp_path: Path) -> None:
    tree(tmp_path, "old/", "young/", "busy/cgroup.procs")
    past = time.time() - 2 * isolation.CGROUP_STALE_S
    for name in ("old", "busy"):
        os.utime(tmp_path / name, (past, past))
    isolation._remove_stale(str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["busy", "young"]


def test_doctor_lists_every_layer_with_a_reason() -> None:
    names = list(layers())
    for name in ("network isolation", "filesystem isolation", "TCP block", "signal scoping",
                 "process count", "process cgroup", "GPU sharing", "systemd user scope",
                 "bubblewrap", "process tree kill", "resource limits", "private /dev/shm"):
        assert name in names
        assert layers()[name].detail
    for name in ("network isolation", "filesystem isolation"):  # CPU runs: no GPU caveat
        assert "GPU" not in layers()[name].detail and "CUDA" not in layers()[name].detail


# --------------------------------------------------------------------------- in the worker


@pytest.fixture(params=["cold", "warm", "spare"])
def run(request: pytest.FixtureRequest, home: Path, warm_runner: WarmRunner,
        spare_runner: SpareRunner):
    """Spares apply the layers after importing torch: they must hold there too."""
    runner = {"cold": SubprocessRunner(), "warm": warm_runner,
              "spare": spare_runner}[request.param]

    def run(code: str) -> RunResult:
        req = RunRequest(role="learner", code=code, limits=Limits(timeout_s=60),
                         probes=(ValueProbe(id="value:t", name="t"),),
                         protect=(str(Path.home()),))
        spares = spare_pids(spare_runner) if request.param == "spare" else set()
        handle = runner.start(req)
        try:
            result = handle.wait()
        finally:
            handle.close()
        assert request.param != "spare" or handle.proc.pid in spares, "started cold"
        return result

    return run


@pytest.mark.slow
def test_the_worker_reports_the_layers_doctor_detects(run) -> None:
    result = run("t = 1\n")
    assert result.ok, result
    report = result.isolation
    expected = {"namespaces": "network isolation", "landlock": "filesystem isolation",
                "processes": "process count", "cgroup": "process cgroup"}
    for key, name in expected.items():
        assert report[key]["active"] is layers()[name].active, (key, report[key])


@pytest.mark.slow
def test_torch_works_inside_the_sandbox(run) -> None:
    """DataLoader workers (fork + /dev/shm), saving and loading in the run folder, a
    subprocess and a temporary file all keep working under every layer."""
    code = """
import subprocess, tempfile, torch
from torch.utils.data import DataLoader, TensorDataset
loader = DataLoader(TensorDataset(torch.arange(40.)), batch_size=10, num_workers=2)
total = sum(float(b[0].sum()) for b in loader)
torch.save({"w": torch.ones(3)}, "net.pt")
loaded = torch.load("net.pt", weights_only=True)["w"].sum().item()
echo = subprocess.run(["echo", "hi"], capture_output=True, text=True).stdout.strip()
with tempfile.NamedTemporaryFile() as f:
    f.write(b"x")
t = [total, loaded, echo]
"""
    result = run(code)
    assert result.ok, (result.error, result.stderr)
    assert result.values["value:t"] == [780.0, 3.0, "hi"]
