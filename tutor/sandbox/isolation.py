"""Isolation layers around a worker, each tried when the worker starts, none required.

``apply`` runs in the worker after it has read its request and before any lesson or learner
code runs, while the process is still single-threaded (the cold worker before it imports
torch, the warm one right after its fork, a spare after an import that started no thread
because ``OMP_NUM_THREADS=1``; with more threads the namespaces are skipped and Landlock
binds this thread only, and the report says so), in this order:

1. GPU slot (CUDA runs): at most N GPU workers of this user at once, through lock files.
2. Process cgroup: a ``pids.max`` cgroup per run, where the tutor may create cgroups
   (as root, or in a delegated subtree). The only process-count bound that holds for root.
3. User + network namespace: no network at all (TCP, UDP, even the host's loopback), and
   RLIMIT_NPROC counting this run's processes from zero.
4. A mount namespace inside it, with a private, size-limited tmpfs on /dev/shm that
   disappears with the run's last process.
5. Landlock: read only where Python, torch and the data live, minus the protected paths
   (the course, the tutor's home, the learner's home and folder); write only in the run's
   folder and the private /dev/shm (the machine's /dev/shm stays denied); no TCP; no signals
   to processes outside the sandbox (the tutor). CUDA runs may also use the NVIDIA device
   nodes and read what the driver needs.

A layer the kernel refuses is skipped; the run goes on, and the report (sent in the result
header as ``isolation``) says which layers hold and why the others do not. The device is
decided before the worker starts (``tutor.sandbox.gpu``): a CPU run gets every layer
whatever drivers exist, and a CUDA run every layer except one the tutor's CUDA probe found
to break CUDA (``Request.cuda_off``, with the reason). Nothing in this module imports torch.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import platform
import stat
import struct
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from tutor.sandbox import reaper

if TYPE_CHECKING:
    from tutor.sandbox.wire import Request

GPU_RUNS_ENV = "PYTORCH_TUTOR_GPU_RUNS"
CGROUP_PARENT = "pytorch-tutor"
CGROUP_STALE_S = 30.0  # an empty run cgroup older than this is removed by a later run

Report = dict[str, dict[str, Any]]

_LIBC: ctypes.CDLL | None = None
_held_fds: list[int] = []  # the GPU slot lock: held as long as this worker (and its children)


def _libc() -> ctypes.CDLL:
    global _LIBC
    if _LIBC is None:
        _LIBC = ctypes.CDLL(None, use_errno=True)
        _LIBC.syscall.restype = ctypes.c_long
    return _LIBC


def _failed(what: str) -> OSError:
    return OSError(f"{what}: {os.strerror(ctypes.get_errno())}")


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- the worker side


def apply(request: Request, run_dir: str) -> Report:
    """Apply every layer this kernel allows; never raises. Returns the layer report.

    Only a concrete ``cuda`` device makes a CUDA run (the tutor decides ``auto`` before the
    worker starts); whatever else arrives is isolated as a CPU run."""
    report: Report = {}
    cuda = request.device.startswith("cuda")
    off = request.cuda_off if cuda else {}
    if cuda:
        os.environ["CUDA_CACHE_PATH"] = os.path.join(run_dir, ".nv", "ComputeCache")
        if request.gpu is not None:
            report["gpu slot"] = _layer(take_gpu_slot, request.gpu.dir, request.gpu.slots)
    processes = request.limits.processes
    token = os.environ.get(reaper.TOKEN_VAR, "")
    report["cgroup"] = _layer(enter_cgroup, token, processes)
    report["namespaces"] = _off(off, "namespaces") or _layer(enter_namespaces)
    in_userns = report["namespaces"]["active"]
    shm = _layer(private_shm) if in_userns else {"active": False, "detail": "needs the namespaces"}
    report["processes"] = _layer(limit_processes, processes, in_userns)
    report["landlock"] = _off(off, "landlock") or _layer(
        restrict, run_dir, request.protect, [request.data_dir], cuda, shm["active"])
    report["shm"] = _shm_report(shm, report["landlock"]["active"])
    return report


def _off(off: dict[str, str], layer: str) -> dict[str, Any] | None:
    """The report of a layer the tutor's CUDA probe left off for CUDA runs, or None."""
    if layer not in off:
        return None
    return {"active": False, "detail": f"OFF for GPU runs: {off[layer]}"}


def _shm_report(private: dict[str, Any], landlocked: bool) -> dict[str, Any]:
    if private["active"]:
        return private
    if landlocked:
        return {"active": True, "detail": "the machine's /dev/shm is denied (Landlock); no "
                                          f"private one: {private['detail']}"}
    return {"active": False, "detail": f"shared with the machine: {private['detail']}"}


def _layer(action: Callable[..., str], *args: Any) -> dict[str, Any]:
    try:
        return {"active": True, "detail": action(*args)}
    except Exception as exc:  # a missing protection never fails the run
        return {"active": False, "detail": str(exc) or type(exc).__name__}


def thread_count() -> int:
    """Threads of this process (Linux); the layers below bind a single thread's successors."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 1


# --------------------------------------------------------------------------- namespaces

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
CLONE_NEWNS = 0x00020000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 1 << 14, 1 << 18
SHM = "/dev/shm"
SHM_BYTES = 512 * 1024 * 1024  # a DataLoader's workers pass batches through it


def enter_namespaces() -> str:
    """A fresh user + network namespace; must be called while single-threaded."""
    if not sys.platform.startswith("linux"):
        raise OSError("namespaces are Linux only")
    if (threads := thread_count()) > 1:
        raise OSError(f"needs a single-threaded worker; {threads} threads are running")
    uid, gid = os.getuid(), os.getgid()
    if _libc().unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0:
        raise _failed("unshare(CLONE_NEWUSER | CLONE_NEWNET)")
    try:
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
    except OSError as exc:
        return f"no network; user ids unmapped ({exc.strerror})"
    return "no network (own network namespace: TCP and UDP unreachable)"


def private_shm(size: int = SHM_BYTES) -> str:
    """A mount namespace (in the fresh user namespace) with its own tmpfs on /dev/shm:
    what the run writes there is bounded, seen by no other process and freed with the run.
    Must follow ``enter_namespaces`` while still single-threaded."""
    libc = _libc()
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                           ctypes.c_char_p]
    if libc.unshare(CLONE_NEWNS) != 0:
        raise _failed("unshare(CLONE_NEWNS)")
    if libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        raise _failed("making the mounts private")
    options = f"size={size},mode=1777".encode()
    if libc.mount(b"tmpfs", SHM.encode(), b"tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  options) != 0:
        raise _failed(f"mounting a tmpfs on {SHM}")
    return f"private /dev/shm ({size // (1024 * 1024)} MiB), gone with the run"


def limit_processes(count: int, in_userns: bool) -> str:
    """RLIMIT_NPROC, only inside a fresh user namespace where it counts from zero
    (outside one it counts every process of the user on the host)."""
    if not count:
        raise OSError("no process limit asked")
    if not in_userns:
        raise OSError("needs a user namespace (RLIMIT_NPROC would count all your processes)")
    import resource

    resource.setrlimit(resource.RLIMIT_NPROC, (count, count))
    if os.geteuid() == 0:
        raise OSError("root is exempt from RLIMIT_NPROC")
    return f"at most {count} processes and threads"


# --------------------------------------------------------------------------- cgroup


def cgroup_base() -> tuple[str, int]:
    """The directory of this process's cgroup in a hierarchy with the pids controller,
    and the cgroup version (1 or 2)."""
    paths: dict[str, str] = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            for name in controllers.split(",") if controllers else [""]:
                paths[name] = path
    mounts = _mounts()
    for fields in mounts:
        sep = fields.index("-")
        fstype, root, point = fields[sep + 1], fields[3], fields[4]
        options = fields[sep + 3].split(",") if len(fields) > sep + 3 else []
        if fstype == "cgroup" and "pids" in options and "pids" in paths:
            return _under(point, root, paths["pids"]), 1
    for fields in mounts:
        sep = fields.index("-")
        if fields[sep + 1] == "cgroup2" and "" in paths:
            base = _under(fields[4], fields[3], paths[""])
            with open(os.path.join(base, "cgroup.controllers")) as f:
                if "pids" in f.read().split():
                    return base, 2
    raise OSError("no cgroup hierarchy with the pids controller")


@functools.cache
def _mounts() -> list[list[str]]:
    with open("/proc/self/mountinfo") as f:
        return [line.split() for line in f if " - cgroup" in line]


def warm_up() -> None:
    """Do once, in a warm parent, the work every forked worker would otherwise repeat."""
    python_roots()
    with contextlib.suppress(OSError):
        _mounts()


def _under(mount_point: str, mount_root: str, path: str) -> str:
    relative = os.path.relpath(path, mount_root) if mount_root != "/" else path.lstrip("/")
    return os.path.normpath(os.path.join(mount_point, relative))


def enter_cgroup(token: str, processes: int) -> str:
    """A per-run cgroup, unless this worker was forked inside its warm parent's: moving a
    process between cgroups waits for an RCU grace period (tens of ms), too slow per warm run."""
    shared = tutor_cgroup()
    if shared:
        with open(os.path.join(shared, "pids.max")) as f:
            limit = f.read().strip()
        return f"at most {limit} processes and threads, shared with the tutor's other warm runs"
    return join_cgroup(token, processes)


def tutor_cgroup() -> str | None:
    """The tutor cgroup this process is in, if any."""
    try:
        base, _ = cgroup_base()
    except (OSError, ValueError):
        return None
    parent, name = os.path.split(base)
    return base if os.path.basename(parent) == CGROUP_PARENT and name else None


def join_cgroup(token: str, processes: int) -> str:
    """Move this process into a fresh per-run cgroup with ``pids.max``; its children follow."""
    if not token or not processes:
        raise OSError("no run token or process limit")
    base, version = cgroup_base()
    parent = os.path.join(base, CGROUP_PARENT)
    if version == 2:
        with contextlib.suppress(OSError):
            _write(os.path.join(base, "cgroup.subtree_control"), "+pids")
    with contextlib.suppress(FileExistsError):
        os.mkdir(parent)
    if version == 2:
        with contextlib.suppress(OSError):
            _write(os.path.join(parent, "cgroup.subtree_control"), "+pids")
    _remove_stale(parent)
    mine = os.path.join(parent, token)
    os.mkdir(mine)
    try:
        _write(os.path.join(mine, "pids.max"), str(processes))
        _write(os.path.join(mine, "cgroup.procs"), str(os.getpid()))
    except OSError:
        with contextlib.suppress(OSError):
            os.rmdir(mine)
        raise
    return f"at most {processes} processes and threads (cgroup v{version} pids)"


def _remove_stale(parent: str) -> None:
    """Empty run cgroups left by finished runs go here (rmdir fails on a busy one)."""
    now = time.time()
    for name in os.listdir(parent):
        path = os.path.join(parent, name)
        with contextlib.suppress(OSError):
            if os.path.isdir(path) and now - os.stat(path).st_mtime > CGROUP_STALE_S:
                os.rmdir(path)


# --------------------------------------------------------------------------- GPU slots


def gpu_lock_dir() -> str:
    """Where the GPU slot locks of this user live (decided in the tutor)."""
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    user = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    return os.path.join(base, f"pytorch-tutor-gpu-{user}")


def gpu_runs() -> int:
    """How many GPU workers of this user may run at once (a learner and its reference: 2)."""
    try:
        return max(1, int(os.environ.get(GPU_RUNS_ENV, "2")))
    except ValueError:
        return 2


def take_gpu_slot(directory: str, slots: int) -> str:
    """Wait for one of ``slots`` lock files; the kernel frees it when this process tree ends.

    The wait counts against the run's wall-clock limit, so a GPU held by other runs ends
    in the usual timeout rather than a hang.
    """
    import fcntl

    with contextlib.suppress(FileExistsError):
        os.mkdir(directory, 0o700)
    info = os.lstat(directory)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise OSError(f"{directory} is not a folder of this user")
    announced = False
    while True:
        for index in range(slots):
            path = os.path.join(directory, f"slot-{index}")
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            _held_fds.append(fd)
            return f"GPU slot {index + 1} of {slots}"
        if not announced:
            sys.stderr.write(f"waiting for a GPU slot: {slots} GPU runs of yours are running "
                             f"({GPU_RUNS_ENV} sets how many may)\n")
            announced = True
        time.sleep(0.1)


# --------------------------------------------------------------------------- Landlock

SYS_LANDLOCK_CREATE_RULESET = 444  # the same numbers on x86_64 and aarch64
SYS_LANDLOCK_ADD_RULE = 445
SYS_LANDLOCK_RESTRICT_SELF = 446
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS = 38

FS_EXECUTE = 1 << 0
FS_WRITE_FILE = 1 << 1
FS_READ_FILE = 1 << 2
FS_READ_DIR = 1 << 3
FS_REFER = 1 << 13  # ABI 2
FS_TRUNCATE = 1 << 14  # ABI 3
FS_IOCTL_DEV = 1 << 15  # ABI 5
NET_BIND_TCP = 1 << 0  # ABI 4
NET_CONNECT_TCP = 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
SCOPE_SIGNAL = 1 << 1

FILE_RIGHTS = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV
READ = FS_EXECUTE | FS_READ_FILE | FS_READ_DIR
ALL_FS = (1 << 16) - 1
DEV = "/dev"
DEVICES_RW = ("null", "zero", "full", "random", "urandom")
CUDA_DEVICE_PREFIXES = ("nvidia", "dri")  # nvidia0.., nvidiactl, nvidia-uvm*, nvidia-caps, dri
CUDA_READ = ("/proc/driver/nvidia", "/sys", "/usr/local/cuda", "/usr/lib/wsl",
             "/run/nvidia-persistenced")
SYSTEM_ROOTS = ("/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin", "/etc", "/opt",
                "/proc", "/sys")


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 where Landlock is unavailable."""
    if not sys.platform.startswith("linux") or platform.machine() not in ("x86_64", "aarch64"):
        return 0
    abi = _libc().syscall(ctypes.c_long(SYS_LANDLOCK_CREATE_RULESET), None, ctypes.c_long(0),
                          ctypes.c_long(LANDLOCK_CREATE_RULESET_VERSION))
    return max(0, int(abi))


def handled_fs(abi: int) -> int:
    rights = (1 << 13) - 1
    if abi >= 2:
        rights |= FS_REFER
    if abi >= 3:
        rights |= FS_TRUNCATE
    if abi >= 5:
        rights |= FS_IOCTL_DEV
    return rights


def features(abi: int) -> list[str]:
    """What a ruleset of this ABI enforces, in words."""
    found = ["files"] if abi >= 1 else []
    if abi >= 4:
        found.append("TCP")
    if abi >= 6:
        found.append("signals")
    return found


class Ruleset:
    """One Landlock ruleset: allow paths, then ``enforce`` on this thread (and its future
    children); whatever it does not allow, it denies."""

    def __init__(self, abi: int):
        self.abi = abi
        self.fs = handled_fs(abi)
        net = NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0
        scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0
        size = 8 if abi < 4 else (16 if abi < 6 else 24)  # the attr grew with the ABI
        attr = ctypes.create_string_buffer(struct.pack("<QQQ", self.fs, net, scoped)[:size], size)
        fd = _libc().syscall(ctypes.c_long(SYS_LANDLOCK_CREATE_RULESET), attr,
                             ctypes.c_long(size), ctypes.c_long(0))
        if fd < 0:
            raise _failed("landlock_create_ruleset")
        self.fd = int(fd)

    def allow(self, path: str, rights: int) -> bool:
        """Allow ``rights`` beneath ``path``; False if it does not exist."""
        try:
            target = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            return False
        try:
            if not stat.S_ISDIR(os.fstat(target).st_mode):
                rights &= FILE_RIGHTS  # anything else on a non-directory is EINVAL
            rights &= self.fs
            rule = ctypes.create_string_buffer(struct.pack("<Qi", rights, target), 12)
            done = _libc().syscall(ctypes.c_long(SYS_LANDLOCK_ADD_RULE), ctypes.c_long(self.fd),
                                   ctypes.c_long(LANDLOCK_RULE_PATH_BENEATH), rule,
                                   ctypes.c_long(0))
            if done != 0:
                raise _failed(f"landlock_add_rule({path})")
        finally:
            os.close(target)
        return True

    def enforce(self) -> None:
        libc = _libc()
        try:
            if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
                raise _failed("prctl(PR_SET_NO_NEW_PRIVS)")
            if libc.syscall(ctypes.c_long(SYS_LANDLOCK_RESTRICT_SELF), ctypes.c_long(self.fd),
                            ctypes.c_long(0)) != 0:
                raise _failed("landlock_restrict_self")
        finally:
            os.close(self.fd)


def restrict(run_dir: str, protected: Iterable[str], readable: Iterable[str],
             cuda: bool = False, shm: bool = False) -> str:
    """Landlock this process: read where Python, torch and ``readable`` live (minus
    ``protected``), write in ``run_dir`` only, and in /dev/shm if ``shm`` says that it is the
    run's private one; a CUDA run also uses the NVIDIA device nodes. Single-threaded callers
    only: the ruleset binds the calling thread and the threads and processes it starts."""
    abi = landlock_abi()
    if abi < 1:
        raise OSError("Landlock is not available (Linux 5.13+ with Landlock enabled)")
    ruleset = Ruleset(abi)
    try:
        _allow_all(ruleset, run_dir, protected, readable, cuda, shm)
    except BaseException:
        os.close(ruleset.fd)
        raise
    others = thread_count() - 1
    ruleset.enforce()
    unbound = f" (not on the {others} thread(s) already running)" if others else ""
    return f"ABI {abi}: " + ", ".join(features(abi)) + unbound


def _allow_all(ruleset: Ruleset, run_dir: str, protected: Iterable[str],
               readable: Iterable[str], cuda: bool, shm: bool) -> None:
    roots = list(python_roots()) + _resolved([*readable, *(CUDA_READ if cuda else ())])
    for path in readable_paths(roots, protected, resolved=True):
        ruleset.allow(path, READ)
    for path in [DEV] if shm else readable_paths([DEV], [SHM]):  # the machine's: not even read
        ruleset.allow(path, READ | FS_IOCTL_DEV)
    for device in DEVICES_RW:
        ruleset.allow(os.path.join(DEV, device),
                      READ | FS_WRITE_FILE | FS_TRUNCATE | FS_IOCTL_DEV)
    if cuda:
        for name in _listdir(DEV):
            if name.startswith(CUDA_DEVICE_PREFIXES):
                ruleset.allow(os.path.join(DEV, name), ALL_FS)
    if shm:
        ruleset.allow(SHM, ALL_FS)
    if not ruleset.allow(run_dir, ALL_FS):
        raise OSError(f"the run folder {run_dir} is missing")


@functools.cache
def python_roots() -> tuple[str, ...]:
    """Everything this interpreter, torch and the tutor package may need to read, resolved.
    Computed once per process: a warm parent does it before it forks its workers."""
    roots = list(SYSTEM_ROOTS)
    roots += [sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix]
    roots += [p for p in sys.path if p and os.path.isabs(p)]
    roots += [os.path.dirname(sys.executable), os.path.dirname(os.path.realpath(sys.executable))]
    roots.append(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tutor/
    for var in ("LD_LIBRARY_PATH", "CUDA_HOME", "CUDA_PATH"):
        roots += [p for p in os.environ.get(var, "").split(os.pathsep) if os.path.isabs(p)]
    return tuple(_resolved(roots))


def _resolved(paths: Iterable[str]) -> list[str]:
    """Real paths of the paths that exist, without duplicates."""
    found = {os.path.realpath(p): None for p in paths if p}
    return [p for p in found if os.path.exists(p)]


def readable_paths(roots: Iterable[str], protected: Iterable[str],
                   resolved: bool = False) -> list[str]:
    """The read allow-list: ``roots``, except that a root holding a protected path is
    replaced by its children minus that path, recursively (Landlock can only allow).
    ``resolved`` says the roots are real paths that exist.

    A root *inside* a protected path stays allowed: Python installed in the home folder
    (pyenv, conda) must still start.
    """
    hidden = {os.path.realpath(p) for p in protected if p}
    allowed: list[str] = []
    seen: set[str] = set()

    def visit(path: str, known: bool = False) -> None:
        real = path if known else os.path.realpath(path)
        if real in seen or not (known or os.path.exists(real)):
            return
        seen.add(real)
        if real in hidden:
            return
        if not any(_is_within(h, real) for h in hidden):
            allowed.append(real)
            return
        for name in sorted(_listdir(real)):
            visit(os.path.join(real, name))

    for root in roots:
        visit(root, known=resolved)
    kept = set(allowed)  # one rule per outermost folder is enough
    return [p for p in allowed if not any(a in kept for a in _ancestors(p))]


def _ancestors(path: str) -> list[str]:
    found = []
    while (parent := os.path.dirname(path)) != path:
        found.append(parent)
        path = parent
    return found


def _is_within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []
