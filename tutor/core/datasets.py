"""Fashion-MNIST on disk: where it lives, IDX files, and an offline substitute.

Pure (stdlib + numpy) so the UI and CLI can check, import and build data without importing
torch. Everything is written in torchvision's layout (``<root>/FashionMNIST/raw/`` with the
four extracted files), so ``torchvision.datasets.FashionMNIST(root, download=False)`` later
loads it with its own code; a lesson never learns a loader that only this tutor has.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from tutor.core.progress import default_data_dir as tutor_home


@dataclass(frozen=True)
class RawFile:
    """One of the four Fashion-MNIST files, with the md5 and size of its ``.gz`` download."""

    name: str
    gz_md5: str
    gz_size: int


FILES: tuple[RawFile, ...] = (
    RawFile("train-images-idx3-ubyte", "8d4fb7e6c68d591d4c3dfef9ec88bf0d", 26_421_880),
    RawFile("train-labels-idx1-ubyte", "25c81989df183df01b3e8a0aad5dffbe", 29_515),
    RawFile("t10k-images-idx3-ubyte", "bef4ecab320f06d8554ea6380940ec79", 4_422_102),
    RawFile("t10k-labels-idx1-ubyte", "bb300cfdad3c16e7a12a480ee83cd310", 5_148),
)
FILE_NAMES: tuple[str, ...] = tuple(f.name for f in FILES)
CLASSES: tuple[str, ...] = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip

IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions
LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension
IMAGE_SIZE = 28
DATA_ENV = "PYTORCH_TUTOR_DATA"
SUBSTITUTE_NOTE = "SUBSTITUTE.txt"

Kind = Literal["fashion-mnist", "substitute"]

FETCH_CMD = "pytorch-tutor data fetch"
FETCH_FROM_CMD = "pytorch-tutor data fetch --from DIR"
SUBSTITUTE_CMD = "pytorch-tutor data substitute"


class DatasetError(Exception):
    """A data problem the learner can fix; the message says how."""


class IdxFormatError(DatasetError, ValueError):
    """Bytes that are not a valid IDX file (wrong magic, bad dimensions, truncated)."""


class DatasetMissing(DatasetError):
    """Neither Fashion-MNIST nor the substitute is on disk; ``status`` says what is there."""

    def __init__(self, status: DatasetStatus) -> None:
        self.status = status
        super().__init__(_missing_message(status))


# --------------------------------------------------------------------------- places


def default_data_dir() -> Path:
    """Where datasets live: ``$PYTORCH_TUTOR_DATA`` if set, else ``data`` in the tutor's home
    (which ``$PYTORCH_TUTOR_HOME`` moves), so every command looks in the same place."""
    override = os.environ.get(DATA_ENV)
    if override:
        return Path(override).expanduser()
    return tutor_home() / "data"


def raw_dir(root: Path) -> Path:
    """The folder torchvision reads for ``FashionMNIST(root=root)``."""
    return Path(root) / "FashionMNIST" / "raw"


def substitute_root(data_dir: Path) -> Path:
    """The ``root`` of the offline substitute, kept apart so it never passes for the real data."""
    return Path(data_dir) / "substitute"


# --------------------------------------------------------------------------- IDX


def write_idx_images(path: Path, images: np.ndarray) -> None:
    """Write ``uint8 [N, 28, 28]`` images as an IDX file (extracted, not gzip'ed)."""
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise ValueError(
            f"images must be uint8 [N, 28, 28], got {images.dtype} {list(images.shape)}"
        )
    header = np.array([IMAGES_MAGIC, *images.shape], dtype=">u4").tobytes()
    _write_atomic(Path(path), header + np.ascontiguousarray(images).tobytes())


def write_idx_labels(path: Path, labels: np.ndarray) -> None:
    """Write integer labels in 0..255 as a 1-dimensional IDX file (extracted, not gzip'ed)."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be 1-D integers, got {labels.dtype} {list(labels.shape)}")
    if labels.size and (labels.min() < 0 or labels.max() > 255):
        raise ValueError("labels must be in 0..255 to fit in an unsigned byte")
    header = np.array([LABELS_MAGIC, labels.size], dtype=">u4").tobytes()
    _write_atomic(Path(path), header + labels.astype(np.uint8).tobytes())


def read_idx(source: str | os.PathLike[str] | bytes) -> np.ndarray:
    """Parse an IDX file (path or bytes, gzip'ed or not) into a read-only uint8 array.

    Images come back as ``[N, rows, cols]``, labels as ``[N]``. Every way a file can be
    wrong raises ``IdxFormatError`` naming what was expected, because a silently short
    dataset only shows up much later as a strange accuracy.
    """
    what = "IDX data" if isinstance(source, bytes) else str(source)
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as e:
            raise IdxFormatError(f"{what}: damaged gzip data ({e})") from e
    if len(data) < 4:
        raise IdxFormatError(f"{what}: {len(data)} bytes is too short for an IDX header")
    magic = int.from_bytes(data[:4], "big")
    if magic not in (IMAGES_MAGIC, LABELS_MAGIC):
        raise IdxFormatError(
            f"{what}: magic number 0x{magic:08x} is not 0x{IMAGES_MAGIC:08x} (images) "
            f"or 0x{LABELS_MAGIC:08x} (labels); is this an IDX file?"
        )
    ndim = magic & 0xFF
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise IdxFormatError(f"{what}: header cut short ({len(data)} of {header_size} bytes)")
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    expected = int(np.prod(dims))
    actual = len(data) - header_size
    if actual != expected:
        shape = " x ".join(str(d) for d in dims)
        problem = "truncated" if actual < expected else "has extra bytes"
        raise IdxFormatError(
            f"{what}: {problem}: the header says {shape} = {expected:,} bytes of data, "
            f"the file has {actual:,}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(dims)


def _write_atomic(path: Path, data: bytes) -> None:
    """Write via a temporary name so a crash never leaves a short file that looks present."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f".{path.name}.part")
    part.write_bytes(data)
    os.replace(part, path)


# --------------------------------------------------------------------------- status


@dataclass(frozen=True)
class DatasetStatus:
    """What is on disk under one data directory."""

    data_dir: Path
    present: tuple[str, ...]  # which of FILE_NAMES are in raw_dir(data_dir)
    substitute: bool  # the offline substitute is complete

    @property
    def raw_dir(self) -> Path:
        return raw_dir(self.data_dir)

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(n for n in FILE_NAMES if n not in self.present)

    @property
    def complete(self) -> bool:
        return not self.missing

    def summary(self) -> str:
        """One line: what is ready, and what to run when nothing is."""
        if self.complete:
            return f"Fashion-MNIST ready in {self.raw_dir}"
        if self.substitute:
            return ("Fashion-MNIST missing; the offline substitute (digits) is ready. "
                    f"`{FETCH_CMD}` gets the real data")
        return f"Fashion-MNIST missing ({len(self.missing)} of 4 files); run `{FETCH_CMD}`"


def status(data_dir: Path) -> DatasetStatus:
    """Look, without reading contents, for the real files and for the substitute."""
    data_dir = Path(data_dir)
    present = tuple(n for n in FILE_NAMES if (raw_dir(data_dir) / n).is_file())
    sub = substitute_root(data_dir)
    substitute = (raw_dir(sub) / SUBSTITUTE_NOTE).is_file() and all(
        (raw_dir(sub) / n).is_file() for n in FILE_NAMES
    )
    return DatasetStatus(data_dir, present, substitute)


def resolve(data_dir: Path) -> tuple[Path, Kind]:
    """The ``root`` to hand to ``FashionMNIST(root=...)``: the real data first, else the substitute."""
    st = status(data_dir)
    if st.complete:
        return Path(data_dir), "fashion-mnist"
    if st.substitute:
        return substitute_root(data_dir), "substitute"
    raise DatasetMissing(st)


def _missing_message(st: DatasetStatus) -> str:
    listing = "\n".join(
        f"  {n}  ({'present' if n in st.present else 'missing'})" for n in FILE_NAMES
    )
    return (
        f"Fashion-MNIST is not ready. torchvision needs these four files, extracted, in\n"
        f"  {st.raw_dir}\n{listing}\n"
        f"To get them:\n"
        f"  {FETCH_CMD}              download them (about 30 MB)\n"
        f"  {FETCH_FROM_CMD}   use a copy you already have (.gz or extracted)\n"
        f"  {SUBSTITUTE_CMD}         no network: build a small offline stand-in "
        f"(digits, not clothes)"
    )


# --------------------------------------------------------------------------- import


def import_from(src_dir: Path, data_dir: Path) -> Path:
    """Copy an existing Fashion-MNIST into ``data_dir`` and return the root to load it from.

    Looks in ``src_dir`` and ``src_dir/FashionMNIST/raw``; takes each file as ``.gz``
    (md5-checked) or extracted. All four are checked before anything is written, so a
    bad copy never leaves a half-imported dataset behind.
    """
    src_dir = Path(src_dir)
    contents = {f.name: _read_source(f, src_dir) for f in FILES}
    _check_pairs(contents)
    for name, data in contents.items():
        _write_atomic(raw_dir(data_dir) / name, data)
    return Path(data_dir)


def _read_source(f: RawFile, src_dir: Path) -> bytes:
    """The extracted bytes of one file, from its ``.gz`` if present (verified), else as is."""
    places = (src_dir, raw_dir(src_dir))
    for place in places:
        gz = place / f"{f.name}.gz"
        if gz.is_file():
            packed = gz.read_bytes()
            md5 = hashlib.md5(packed).hexdigest()
            if md5 != f.gz_md5:
                raise DatasetError(
                    f"{gz} is not the Fashion-MNIST file: md5 {md5}, expected {f.gz_md5} "
                    f"({len(packed):,} bytes, the real one has {f.gz_size:,}). It is damaged "
                    f"or from another dataset; delete it or run `{FETCH_CMD}`."
                )
            return gzip.decompress(packed)
        if (place / f.name).is_file():
            return (place / f.name).read_bytes()
    raise DatasetError(
        f"{f.name} (or {f.name}.gz) is in neither {places[0]} nor {places[1]}. "
        f"The four files are: {', '.join(FILE_NAMES)}."
    )


def _check_pairs(contents: dict[str, bytes]) -> None:
    """Each split needs 28x28 images and exactly one label per image."""
    for split in ("train", "t10k"):
        images = read_idx(contents[f"{split}-images-idx3-ubyte"])
        labels = read_idx(contents[f"{split}-labels-idx1-ubyte"])
        if images.ndim != 3 or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
            raise DatasetError(f"{split}-images-idx3-ubyte: images are not 28x28")
        if labels.ndim != 1 or len(labels) != len(images):
            raise DatasetError(
                f"{split}: {len(images):,} images but labels of shape {list(labels.shape)}"
            )


# --------------------------------------------------------------------------- substitute

SUBSTITUTE_SEED = 20240901
SUBSTITUTE_TEST = 297  # of 1,797 digits; the other 1,500 train
SUBSTITUTE_SHIFTS = ((0, 0), (-2, 0), (2, 0), (0, -2), (0, 2))  # rows, cols; within the pad


def build_substitute(data_dir: Path) -> Path:
    """Build the offline substitute and return its ``root`` for ``FashionMNIST(root=...)``.

    Made from scikit-learn's ``load_digits`` (real handwritten digits shipped inside the
    package, so no network): each 8x8 image is resized bilinearly to 24x24, padded to
    28x28 and scaled to 0..255. A seeded split keeps 297 originals for test; the 1,500
    training digits are each kept and shifted 2 px four ways (7,500 images), so a training
    loop has Fashion-MNIST's shape and a few thousand examples to learn from.
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError as e:
        raise DatasetError(
            "The offline substitute is built from scikit-learn's digits, and scikit-learn "
            "is not installed: pip install scikit-learn"
        ) from e
    digits = load_digits()
    images = _to_28x28(digits.images)
    labels = digits.target.astype(np.uint8)

    rng = np.random.default_rng(SUBSTITUTE_SEED)
    order = rng.permutation(len(images))
    test, train = order[:SUBSTITUTE_TEST], order[SUBSTITUTE_TEST:]
    train_images = np.concatenate(
        [np.roll(images[train], shift, axis=(1, 2)) for shift in SUBSTITUTE_SHIFTS]
    )
    train_labels = np.tile(labels[train], len(SUBSTITUTE_SHIFTS))
    mix = rng.permutation(len(train_images))

    root = substitute_root(data_dir)
    raw = raw_dir(root)
    write_idx_images(raw / "train-images-idx3-ubyte", train_images[mix])
    write_idx_labels(raw / "train-labels-idx1-ubyte", train_labels[mix])
    write_idx_images(raw / "t10k-images-idx3-ubyte", images[test])
    write_idx_labels(raw / "t10k-labels-idx1-ubyte", labels[test])
    _write_atomic(raw / SUBSTITUTE_NOTE, _substitute_note(len(mix), len(test)).encode())
    return root


def _to_28x28(digits: np.ndarray) -> np.ndarray:
    """8x8 images in 0..16 -> uint8 28x28: bilinear to 24x24, then a 2-pixel border."""
    m = _bilinear_matrix(8, 24)
    big = np.einsum("ij,njk,lk->nil", m, digits, m)
    big = np.pad(big, ((0, 0), (2, 2), (2, 2)))
    return np.clip(np.rint(big * (255 / 16)), 0, 255).astype(np.uint8)


def _bilinear_matrix(n_in: int, n_out: int) -> np.ndarray:
    """The ``[n_out, n_in]`` matrix that resizes one axis bilinearly (pixel centres aligned)."""
    x = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
    lo = np.floor(x).astype(int)
    hi = np.minimum(lo + 1, n_in - 1)
    m = np.zeros((n_out, n_in))
    np.add.at(m, (np.arange(n_out), lo), 1 - (x - lo))
    np.add.at(m, (np.arange(n_out), hi), x - lo)
    return m


def _substitute_note(n_train: int, n_test: int) -> str:
    return (
        "OFFLINE SUBSTITUTE - this is NOT Fashion-MNIST.\n\n"
        "These files hold handwritten digits 0-9 from scikit-learn's load_digits (1,797 "
        "images of 8x8, BSD licence), resized to 28x28 and saved under Fashion-MNIST's file "
        "names so torchvision.datasets.FashionMNIST can load them while offline.\n"
        f"Train: {n_train:,} images (1,500 digits, each also shifted 2 pixels up, down, "
        f"left and right). Test: {n_test:,} other digits, unshifted.\n"
        "Label k is the digit k. It matches a Fashion-MNIST class only by number "
        "(0 is not a T-shirt): the images are digits, not clothes.\n\n"
        f"For the real dataset: {FETCH_CMD}  (or {FETCH_FROM_CMD})\n"
    )
