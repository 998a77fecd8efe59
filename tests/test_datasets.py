"""The dataset layer: IDX files, status and import, the offline substitute, and torchvision
loading what we write (the real ``FashionMNIST`` code, not a copy of it)."""

from __future__ import annotations

import gzip
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from tutor.core import datasets as ds
from tutor.core.datasets import (
    FILE_NAMES,
    DatasetError,
    DatasetMissing,
    IdxFormatError,
    RawFile,
    build_substitute,
    import_from,
    raw_dir,
    read_idx,
    resolve,
    status,
    write_idx_images,
    write_idx_labels,
)

if TYPE_CHECKING:
    from torchvision.datasets import FashionMNIST

REPO = Path(__file__).resolve().parents[1]


def _images(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 28, 28), dtype=np.uint8)


def _write_tiny(raw: Path, n_train: int = 6, n_test: int = 4) -> dict[str, np.ndarray]:
    """Four small, valid IDX files under Fashion-MNIST's names; returns what was written."""
    arrays = {
        "train-images-idx3-ubyte": _images(n_train, 1),
        "train-labels-idx1-ubyte": np.arange(n_train) % 10,
        "t10k-images-idx3-ubyte": _images(n_test, 2),
        "t10k-labels-idx1-ubyte": (np.arange(n_test) + 3) % 10,
    }
    for name, a in arrays.items():
        (write_idx_images if a.ndim == 3 else write_idx_labels)(raw / name, a)
    return arrays


@pytest.fixture(scope="module")
def substitute(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One build shared by the tests (importing scikit-learn takes most of its ~2 s)."""
    return build_substitute(tmp_path_factory.mktemp("data"))


# --------------------------------------------------------------------------- IDX


def test_idx_round_trip(tmp_path: Path) -> None:
    images, labels = _images(5), np.array([9, 0, 0, 3, 255])
    write_idx_images(tmp_path / "img", images)
    write_idx_labels(tmp_path / "lab", labels)
    assert (tmp_path / "img").read_bytes()[:16] == bytes.fromhex(
        "00000803 00000005 0000001c 0000001c"
    )
    assert (tmp_path / "lab").read_bytes()[:8] == bytes.fromhex("00000801 00000005")
    assert np.array_equal(read_idx(tmp_path / "img"), images)
    assert np.array_equal(read_idx(str(tmp_path / "lab")), labels)
    assert read_idx((tmp_path / "lab").read_bytes()).dtype == np.uint8


def test_read_idx_gzip(tmp_path: Path) -> None:
    write_idx_images(tmp_path / "img", _images(3))
    packed = gzip.compress((tmp_path / "img").read_bytes())
    (tmp_path / "img.gz").write_bytes(packed)
    assert np.array_equal(read_idx(tmp_path / "img.gz"), _images(3))
    assert np.array_equal(read_idx(packed), _images(3))


MALFORMED_IDX = [
    (b"\x00\x00", "too short"),
    (bytes.fromhex("00000804 00000001") + b"\0" * 8, "magic number 0x00000804"),
    (bytes.fromhex("00000803 00000002"), "header cut short"),
    (bytes.fromhex("00000803 00000002 0000001c 0000001c") + b"\0" * 1000, "truncated"),
    (bytes.fromhex("00000801 00000002") + b"\0\0\0", "extra bytes"),
    # mtime=0: gzip stamps the time, and xdist needs the same ids in every worker
    (gzip.compress(bytes.fromhex("00000801 00000001") + b"\1", mtime=0)[:-6], "damaged gzip"),
]


@pytest.mark.parametrize(
    ("data", "words"), [pytest.param(data, words, id=words) for data, words in MALFORMED_IDX]
)
def test_malformed_idx_is_a_clear_error(data: bytes, words: str) -> None:
    with pytest.raises(IdxFormatError, match=words):
        read_idx(data)


def test_truncated_file_names_sizes(tmp_path: Path) -> None:
    write_idx_images(tmp_path / "img", _images(2))
    (tmp_path / "img").write_bytes((tmp_path / "img").read_bytes()[:-10])
    with pytest.raises(IdxFormatError) as e:
        read_idx(tmp_path / "img")
    assert str(tmp_path / "img") in str(e.value)
    assert "2 x 28 x 28 = 1,568 bytes" in str(e.value) and "1,558" in str(e.value)


def test_writers_reject_wrong_arrays(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"uint8 \[N, 28, 28\]"):
        write_idx_images(tmp_path / "x", np.zeros((2, 28, 28), dtype=np.float32))
    with pytest.raises(ValueError, match=r"uint8 \[N, 28, 28\]"):
        write_idx_images(tmp_path / "x", np.zeros((2, 8, 8), dtype=np.uint8))
    with pytest.raises(ValueError, match="0..255"):
        write_idx_labels(tmp_path / "x", np.array([1, 256]))
    assert not (tmp_path / "x").exists()


# --------------------------------------------------------------------------- places and status


def test_default_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(ds.DATA_ENV, raising=False)
    assert ds.default_data_dir().name == "data"
    assert "pytorch-tutor" in str(ds.default_data_dir())
    monkeypatch.setenv("PYTORCH_TUTOR_HOME", str(tmp_path / "home"))
    assert ds.default_data_dir() == tmp_path / "home" / "data"  # beside progress and code
    monkeypatch.setenv(ds.DATA_ENV, str(tmp_path))
    assert ds.default_data_dir() == tmp_path


def test_resolve_missing_is_actionable(tmp_path: Path) -> None:
    write_idx_labels(raw_dir(tmp_path) / "train-labels-idx1-ubyte", np.array([1]))
    st = status(tmp_path)
    assert st.present == ("train-labels-idx1-ubyte",) and not st.complete and not st.substitute
    with pytest.raises(DatasetMissing) as e:
        resolve(tmp_path)
    message = str(e.value)
    for needed in (*FILE_NAMES, str(tmp_path / "FashionMNIST" / "raw")):
        assert needed in message
    for command in ("pytorch-tutor data fetch", "data fetch --from DIR", "data substitute"):
        assert command in message
    assert "train-labels-idx1-ubyte  (present)" in message
    assert e.value.status == st


def test_resolve_prefers_real_data(tmp_path: Path, substitute: Path) -> None:
    shutil.copytree(substitute, ds.substitute_root(tmp_path))
    assert resolve(tmp_path) == (ds.substitute_root(tmp_path), "substitute")
    _write_tiny(raw_dir(tmp_path))
    assert resolve(tmp_path) == (tmp_path, "fashion-mnist")
    assert status(tmp_path).complete and status(tmp_path).substitute


# --------------------------------------------------------------------------- import


def test_import_extracted_files(tmp_path: Path) -> None:
    arrays = _write_tiny(raw_dir(tmp_path / "src"))  # found under src/FashionMNIST/raw
    data = tmp_path / "data"
    assert import_from(tmp_path / "src", data) == data
    assert resolve(data) == (data, "fashion-mnist")
    for name, a in arrays.items():
        assert np.array_equal(read_idx(raw_dir(data) / name), a)


def test_import_gz_checks_md5(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "src"
    _write_tiny(src)
    name = "train-images-idx3-ubyte"
    packed = gzip.compress((src / name).read_bytes())
    (src / f"{name}.gz").write_bytes(packed)  # the .gz wins over the extracted copy

    with pytest.raises(DatasetError, match=f"{name}.gz is not the Fashion-MNIST file: md5"):
        import_from(src, tmp_path / "data")
    assert status(tmp_path / "data").present == ()  # nothing half-imported

    good = tuple(
        RawFile(f.name, hashlib.md5(packed).hexdigest(), len(packed)) if f.name == name else f
        for f in ds.FILES
    )
    monkeypatch.setattr(ds, "FILES", good)
    import_from(src, tmp_path / "data")
    assert np.array_equal(read_idx(raw_dir(tmp_path / "data") / name), read_idx(src / name))


def test_import_reports_missing_and_inconsistent_files(tmp_path: Path) -> None:
    _write_tiny(tmp_path / "src")
    (tmp_path / "src" / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(
        DatasetError, match=r"t10k-labels-idx1-ubyte \(or t10k-labels-idx1-ubyte.gz\)"
    ):
        import_from(tmp_path / "src", tmp_path / "data")
    write_idx_labels(tmp_path / "src" / "t10k-labels-idx1-ubyte", np.array([1, 2]))
    with pytest.raises(DatasetError, match="t10k: 4 images but labels of shape"):
        import_from(tmp_path / "src", tmp_path / "data")


# --------------------------------------------------------------------------- substitute


def test_substitute_files(substitute: Path) -> None:
    raw = raw_dir(substitute)
    assert (raw / "train-images-idx3-ubyte").read_bytes()[:4] == bytes.fromhex("00000803")
    assert (raw / "train-labels-idx1-ubyte").read_bytes()[:4] == bytes.fromhex("00000801")
    train, train_y, test, test_y = (read_idx(raw / name) for name in FILE_NAMES)
    assert train.shape == (7500, 28, 28) and test.shape == (297, 28, 28)
    assert train.dtype == test.dtype == np.uint8 and train.max() == 255
    assert len(train_y) == len(train) and len(test_y) == len(test)
    assert set(train_y.tolist()) == set(test_y.tolist()) == set(range(10))
    border = [0, 1, 26, 27]  # unshifted test digits keep the 2-pixel frame
    assert not test[:, border].any() and not test[:, :, border].any()
    note = (raw / "SUBSTITUTE.txt").read_text()
    assert "NOT Fashion-MNIST" in note and "digits" in note
    assert status(substitute.parent).substitute


def test_substitute_is_deterministic(tmp_path: Path, substitute: Path) -> None:
    again = build_substitute(tmp_path)
    for name in FILE_NAMES:
        assert (raw_dir(again) / name).read_bytes() == (raw_dir(substitute) / name).read_bytes()


def test_substitute_without_scikit_learn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(DatasetError, match="pip install scikit-learn"):
        build_substitute(tmp_path)


def test_core_imports_neither_torch_nor_sklearn() -> None:
    code = (
        "import sys, tutor.core.datasets;"
        "print(sorted(m for m in ('torch', 'torchvision', 'sklearn') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------- torchvision


def _load(root: Path, train: bool) -> FashionMNIST:
    from torchvision.datasets import FashionMNIST
    from torchvision.transforms import ToTensor

    return FashionMNIST(root=root, train=train, download=False, transform=ToTensor())


@pytest.mark.slow
def test_constants_match_torchvision() -> None:
    from torchvision.datasets import FashionMNIST

    assert [(f"{f.name}.gz", f.gz_md5) for f in ds.FILES] == FashionMNIST.resources
    assert list(ds.CLASSES) == FashionMNIST.classes


@pytest.mark.slow
def test_torchvision_loads_files_we_write(tmp_path: Path) -> None:
    import torch

    arrays = _write_tiny(raw_dir(tmp_path))
    for train, split in ((True, "train"), (False, "t10k")):
        data = _load(tmp_path, train)
        assert len(data) == len(arrays[f"{split}-labels-idx1-ubyte"])
        image, label = data[1]
        assert image.shape == (1, 28, 28) and image.dtype == torch.float32
        assert image.min() >= 0.0 and image.max() <= 1.0
        assert isinstance(label, int) and label == arrays[f"{split}-labels-idx1-ubyte"][1]
        expected = torch.from_numpy(arrays[f"{split}-images-idx3-ubyte"][1] / 255).float()
        assert torch.allclose(image[0], expected)


@pytest.mark.slow
def test_torchvision_loads_the_substitute(substitute: Path) -> None:
    import torch
    from torch.utils.data import DataLoader

    train, test = _load(substitute, True), _load(substitute, False)
    assert (len(train), len(test)) == (7500, 297)
    images, labels = next(iter(DataLoader(train, batch_size=64)))
    assert images.shape == (64, 1, 28, 28) and images.dtype == torch.float32
    assert images.min() >= 0.0 and images.max() <= 1.0
    assert labels.dtype == torch.int64 and set(train.targets.tolist()) == set(range(10))
    assert isinstance(test[0][1], int)


@pytest.mark.slow
def test_fetch_offline_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from torchvision.datasets import FashionMNIST

    from tutor.torch_tools import fetch_data

    monkeypatch.setattr(FashionMNIST, "mirrors", ["http://127.0.0.1:9/"])  # refused at once
    assert fetch_data.main([str(tmp_path)]) == 1
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("fetch failed") and "offline" in last
    for needed in (*FILE_NAMES, str(raw_dir(tmp_path)), "pytorch-tutor data substitute"):
        assert needed in last


@pytest.mark.slow
def test_fetch_with_files_present_loads_both_splits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tutor.torch_tools import fetch_data

    _write_tiny(raw_dir(tmp_path))
    assert fetch_data.main([str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert all(f"{name}: already here" in out for name in FILE_NAMES)
    assert "train set: 6 images" in out and "test set: 4 images" in out and "done" in out
