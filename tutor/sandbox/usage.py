"""What a process has used: CPU time, and time spent ready to run but waiting for a CPU.

The waiting is what tells a busy machine from a program that loops: a loop waits little
and uses CPU, a program on a busy machine waits much and uses little, a sleeping one
does neither. Linux shows both in /proc (``schedstat``); elsewhere only the CPU is known.
"""

from __future__ import annotations

import os


def process_usage(pid: int) -> tuple[float, float | None] | None:
    """CPU time of a process and the time it waited for a CPU, in seconds (Linux only)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().decode(errors="replace").rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None
    return cpu, _waited(f"/proc/{pid}/schedstat")


def own_usage() -> tuple[float, float | None]:
    """This process's CPU time and time spent waiting for a CPU (the latter on Linux)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime, _waited("/proc/self/schedstat")


def _waited(path: str) -> float | None:
    try:
        with open(path, "rb") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return None

