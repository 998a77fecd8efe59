"""Download Fashion-MNIST with torchvision's own code: ``python -m tutor.torch_tools.fetch_data ROOT``.

A child process because the tutor's UI never imports torchvision. It prints a line per file
to stdout before that file downloads (torchvision's own progress bar goes to stderr), then
loads both splits with ``FashionMNIST(root, download=True)`` to prove they read back.
A network failure ends in one actionable line and exit status 1, not a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.error import URLError

from tutor.core.datasets import FETCH_FROM_CMD, FILE_NAMES, SUBSTITUTE_CMD, raw_dir


def fetch(root: Path) -> None:
    """Download whichever of the four files are missing, then load both splits."""
    from torchvision.datasets import FashionMNIST
    from torchvision.datasets.utils import download_and_extract_archive

    raw = raw_dir(root)
    print(f"Fashion-MNIST -> {raw}", flush=True)
    for filename, md5 in FashionMNIST.resources:
        name = filename.removesuffix(".gz")
        if (raw / name).is_file():
            print(f"  {name}: already here", flush=True)
            continue
        print(f"  {name}: downloading {filename} ...", flush=True)
        url = FashionMNIST.mirrors[0] + filename
        download_and_extract_archive(url, download_root=raw, filename=filename, md5=md5)
    for train in (True, False):
        ds = FashionMNIST(root, train=train, download=True)
        print(f"  {'train' if train else 'test'} set: {len(ds):,} images", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Exit 0 when both splits load, 1 with one actionable line when they cannot be fetched."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m tutor.torch_tools.fetch_data ROOT", file=sys.stderr)
        return 2
    root = Path(args[0])
    try:
        fetch(root)
    except PermissionError as e:
        problem = f"cannot write there ({e})"
    except (URLError, OSError) as e:
        problem = f"{e}; this machine seems offline"
    except RuntimeError as e:  # torchvision's md5 check after a download
        problem = f"{e} (an interrupted or damaged download; delete it and retry)"
    else:
        print("done")
        return 0
    print(
        f"fetch failed: {problem}. Put {', '.join(FILE_NAMES)} (.gz or extracted) in "
        f"{raw_dir(root)}, or run `{FETCH_FROM_CMD}` with a copy you have, "
        f"or `{SUBSTITUTE_CMD}` to build the offline stand-in."
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
