"""``python -I -m tutor.torch_tools.facts``: what torch sees on this machine, as one JSON line.

Run in a child so the tutor's own process never imports torch.
"""

from __future__ import annotations

import json
import os
import platform
import sys


def facts() -> dict:
    info: dict = {"python": platform.python_version(), "executable": sys.executable}
    try:
        import torch
    except Exception as exc:  # a broken install must be reported, not crash the doctor
        info["torch_error"] = f"{type(exc).__name__}: {exc}"
        return info
    info["torch"] = torch.__version__
    info["torch_cuda_build"] = torch.version.cuda
    try:
        import torchvision

        info["torchvision"] = torchvision.__version__
    except Exception as exc:
        info["torchvision_error"] = f"{type(exc).__name__}: {exc}"
    info["cuda_available"] = bool(torch.cuda.is_available())
    info["gpus"] = []
    if info["cuda_available"]:
        for index in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(index)
            info["gpus"].append({"index": index, "name": props.name,
                                 "memory_gib": round(props.total_memory / 2**30, 1)})
    mps = getattr(torch.backends, "mps", None)
    info["mps_available"] = bool(mps is not None and mps.is_available())
    info["cuda_visible_devices"] = os.environ.get("CUDA_VISIBLE_DEVICES")
    return info


if __name__ == "__main__":
    print(json.dumps(facts()))
    sys.stdout.flush()
    os._exit(0)
