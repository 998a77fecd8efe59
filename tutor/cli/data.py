"""``pytorch-tutor data``: get Fashion-MNIST ready before a lesson needs it."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from tutor.cli.render import paint
from tutor.core import datasets


def run(args: argparse.Namespace) -> int:
    data_dir = datasets.default_data_dir()
    if args.data_command == "status":
        st = datasets.status(data_dir)
        if args.json:
            print(json.dumps({
                "dir": str(st.data_dir), "raw_dir": str(st.raw_dir), "present": list(st.present),
                "missing": list(st.missing), "complete": st.complete,
                "substitute": st.substitute, "summary": st.summary()}, indent=2))
        else:
            print(st.summary())
        return 0
    if args.data_command == "substitute":
        root = datasets.build_substitute(data_dir)
        print(f"Built the offline substitute in {root}.\n"
              + paint("It holds handwritten digits 0-9, not clothes: a stand-in so the data and "
                      "training lessons work offline.", "yellow"))
        return 0
    if args.source:
        try:
            root = datasets.import_from(args.source, data_dir)
        except datasets.DatasetError as exc:
            print(f"pytorch-tutor: {exc}", file=sys.stderr)
            return 2
        print(f"Fashion-MNIST copied to {root}.")
        return 0
    print(f"Downloading Fashion-MNIST into {data_dir} ...", flush=True)
    # torchvision downloads in a child: the tutor's own process never imports torch.
    done = subprocess.run([sys.executable, "-I", "-m", "tutor.torch_tools.fetch_data", str(data_dir)])
    return 0 if done.returncode == 0 else 2
