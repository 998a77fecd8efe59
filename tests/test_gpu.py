"""The device is decided before the sandbox, and a machine with an NVIDIA driver loses no
layer for CPU runs. No GPU here: a fake driver (a fake ``nvidia-smi`` on PATH and a fake
``/proc/driver/nvidia/version``) and fake CUDA trials that a chosen layer breaks stand in.
"""

from __future__ import annotations

import os
import resource
import sys
from pathlib import Path

import pytest
from conftest import layers, needs

from tutor.cli.doctor import protection_line
from tutor.core import devices
from tutor.core.doctor import Protection
from tutor.core.runs import Limits, RunRequest, RunResult, ValueProbe
from tutor.sandbox import gpu, protections
from tutor.sandbox.runner import SubprocessRunner
from tutor.sandbox.warm import WarmRunner

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the layers and the fake driver are Linux's")

EVERY_LAYER = {"namespaces": "network isolation", "landlock": "filesystem isolation",
               "shm": "private /dev/shm", "cgroup": "process cgroup",
               "processes": "process count"}
LIMITS = "import resource\nt = [resource.getrlimit(resource.RLIMIT_DATA)[0], device.type]\n"


@pytest.fixture
def driver(nvidia_driver: Path) -> Path:
    """conftest's fake NVIDIA driver; its runtime folder holds the probe's cache."""
    return nvidia_driver


def run(runner: object, code: str, device: str) -> RunResult:
    request = RunRequest(role="learner", code=code, device=device,
                         probes=(ValueProbe(id="t", name="t"),), limits=Limits(timeout_s=60),
                         protect=(str(Path.home()),))
    handle = runner.start(request)  # type: ignore[attr-defined]
    try:
        return handle.wait()
    finally:
        handle.close()


def assert_every_layer(result: RunResult) -> None:
    """Each layer the worker reports is active exactly where doctor finds it on this machine."""
    for key, name in EVERY_LAYER.items():
        assert result.isolation[key]["active"] is layers()[name].active, (
            key, result.isolation[key])
        assert "GPU" not in result.isolation[key]["detail"]


# --------------------------------------------------------------------------- deciding


def test_without_a_driver_auto_is_the_cpu_and_nothing_is_probed(monkeypatch) -> None:
    monkeypatch.setattr(devices, "cuda_may_exist", lambda: False)
    monkeypatch.setattr(gpu, "probe", lambda: pytest.fail("probed without a driver"))
    assert gpu.decide("auto") in ("cpu", "mps") and gpu.plan() == gpu.NO_DRIVER
    assert gpu.layers_off("cuda") == {}


def test_with_a_driver_auto_follows_the_probe_and_explicit_devices_stay(driver: Path,
                                                                        monkeypatch) -> None:
    monkeypatch.setattr(gpu, "probe", lambda: gpu.CudaPlan(True, "GPU", {"landlock": "r"}, True))
    assert gpu.decide("auto") == "cuda" and gpu.decide("cpu") == "cpu"
    assert gpu.layers_off("cuda:1") == {"landlock": "r"} and gpu.layers_off("cpu") == {}
    monkeypatch.setattr(gpu, "_found", {})
    Path(gpu._cache_path()).unlink()  # what the first probe found is remembered on disk
    monkeypatch.setattr(gpu, "probe", lambda: gpu.CudaPlan(False, "no CUDA", {}, True))
    assert gpu.decide("auto") == "cpu" and gpu.decide("cuda") == "cuda"


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["cold", "warm"])
def test_with_a_fake_driver_cpu_runs_get_every_layer(driver: Path, kind: str,
                                                     warm_runner: WarmRunner) -> None:
    runner = SubprocessRunner() if kind == "cold" else warm_runner
    for device in ("auto", "cpu"):
        result = run(runner, LIMITS, device)
        assert result.ok, (result.status, result.error)
        assert result.device == "cpu" and result.values["t"][1] == "cpu"
        assert result.values["t"][0] == Limits().memory_bytes  # RLIMIT_DATA holds
        assert_every_layer(result)
    assert not gpu.plan().usable and gpu.plan().probed  # a CPU build: CUDA never started


@pytest.mark.slow
def test_cuda_asked_on_a_cpu_build_is_isolated_and_fails_as_torch_says(driver: Path) -> None:
    code = ("import resource, torch\nt = [resource.getrlimit(resource.RLIMIT_DATA)[0]]\n"
            "x = torch.ones(1, device='cuda')\n")
    result = run(SubprocessRunner(), code, "cuda")
    assert result.status == "error" and result.device == "cuda"
    assert result.values["t"] == [resource.RLIM_INFINITY]  # no RLIMIT_DATA for CUDA
    assert result.isolation["gpu slot"]["active"]
    assert_every_layer(result)  # CUDA works nowhere here: no layer is left off for it


# --------------------------------------------------------------------------- the probe


def breaks_under(layer: str, tmp_path: Path) -> str:
    """A stand-in for initialising CUDA that only ``layer`` breaks."""
    if layer == "namespaces":
        host = os.readlink("/proc/self/ns/net")
        return (f"import os\nt = 16.0 if os.readlink('/proc/self/ns/net') == {host!r} else 0.0\n"
                "name = 'Fake GPU'\n")
    node = tmp_path / "fake-nvidia0"  # a device node outside what Landlock allows
    node.write_text("gpu")
    return f"t = 16.0 if open({str(node)!r}).read() == 'gpu' else 0.0\nname = 'Fake GPU'\n"


@pytest.mark.slow
@pytest.mark.parametrize("layer", [
    pytest.param("namespaces", marks=needs("network isolation")),
    pytest.param("landlock", marks=needs("filesystem isolation")),
])
def test_the_probe_leaves_off_only_the_layer_that_breaks_cuda(
        driver: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layer: str) -> None:
    monkeypatch.setattr(gpu, "TRIAL", breaks_under(layer, tmp_path))
    found = gpu.plan()
    assert found.usable and found.probed and set(found.off) == {layer}
    assert "CUDA did not initialise under it" in found.off[layer]
    assert gpu.decide("auto") == "cuda"

    cuda = run(SubprocessRunner(), "t = 1\n", "cuda")  # a CPU build: the code uses no CUDA
    assert cuda.ok, (cuda.status, cuda.error)
    assert cuda.isolation[layer] == {"active": False,
                                     "detail": "OFF for GPU runs: " + found.off[layer]}
    kept = "landlock" if layer == "namespaces" else "namespaces"
    assert cuda.isolation[kept]["active"]
    assert_every_layer(run(SubprocessRunner(), "t = 1\n", "cpu"))  # CPU runs lose nothing

    lines = [protection_line(p) for p in protections.gpu_layers()]
    name = {"namespaces": "network isolation", "landlock": "filesystem isolation"}[layer]
    assert f"[!!] {name}: OFF for GPU runs: {found.off[layer]}" in lines
    assert not any(line.startswith("[ok]") and "OFF" in line for line in lines)

    monkeypatch.setattr(gpu, "_found", {})  # another tutor: the findings are remembered
    monkeypatch.setattr(gpu, "_trial", lambda off: pytest.fail("probed again"))
    assert gpu.plan() == found


def test_doctor_names_a_layer_off_for_gpu_runs_and_never_as_ok() -> None:
    off = Protection("network isolation" + protections.GPU_SUFFIX, False,
                     "CUDA did not initialise under it at warm-up (RuntimeError: x)")
    kept = Protection("filesystem isolation" + protections.GPU_SUFFIX, True, "CUDA initialised")
    assert protection_line(off) == ("[!!] network isolation: OFF for GPU runs: CUDA did not "
                                    "initialise under it at warm-up (RuntimeError: x)")
    assert protection_line(kept).startswith("[ok] filesystem isolation, GPU runs too")
    assert protection_line(Protection("network isolation", True, "x")) == (
        "[ok] network isolation: x")


def test_doctor_lists_no_gpu_layer_without_a_driver(monkeypatch) -> None:
    monkeypatch.setattr(devices, "cuda_may_exist", lambda: False)
    assert protections.gpu_layers() == []


def canned(results: dict[frozenset[str], RunResult]):
    """A stand-in for the probe's trials: the result for each set of layers left off."""
    return lambda off: results[frozenset(off)]


WORKS = RunResult("ok", values={"t": gpu.TRIAL_EXPECTED, "name": "Fake GPU"})
FAILS = RunResult("error", error=None)


def test_a_probe_that_ran_out_of_time_drops_no_layer_and_is_not_remembered(
        driver: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gpu, "_trial", canned({
        frozenset(): RunResult("timeout"), frozenset(gpu.PROBED): WORKS,
        frozenset({"landlock"}): RunResult("timeout"), frozenset({"namespaces"}): WORKS}))
    found = gpu.plan()
    assert found.usable and found.off == {} and not found.conclusive
    assert not Path(gpu._cache_path()).exists()  # a busy machine's findings are not kept


def test_a_probe_where_each_layer_holds_alone_but_not_together_drops_one(
        driver: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gpu, "_trial", canned({
        frozenset(): FAILS, frozenset(gpu.PROBED): WORKS,
        frozenset({"landlock"}): WORKS, frozenset({"namespaces"}): WORKS}))
    found = gpu.plan()
    assert found.usable and list(found.off) == ["landlock"] and found.conclusive
    assert "under every layer together" in found.off["landlock"]
    assert Path(gpu._cache_path()).exists()
