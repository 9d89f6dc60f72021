"""Give each training job its own GPU, which Snakemake's resource counting cannot do.

Snakemake only counts: with ``--resources gpu=2`` it runs at most two jobs that declare
``gpu=1``, but never tells a job *which* device is free. Before TensorFlow is imported, a
job calls :func:`claim_device_for_job`, which takes an exclusive ``flock`` on one lock file
per (device, slot) and exports ``CUDA_VISIBLE_DEVICES``. The kernel drops the lock when the
process ends, however it ends (even ``kill -9``), so a dead job's device is free again.

* A device already chosen by a cluster scheduler (``CUDA_VISIBLE_DEVICES`` set, as SLURM
  does for ``--gpus``) is respected and nothing is locked.
* ``ATTEND_SLOTS_PER_GPU`` (default 4) jobs may share one device (small models fit several
  to a GPU); the local workflow profile lets Snakemake run devices × slots at once.
* With no GPU the job runs on the CPU with the threads it was given.
* ``ATTEND_FAKE_GPUS=N`` simulates N devices (tests, dry runs on a laptop).

The lock folder (:func:`lock_folder`: ``ATTEND_GPU_LOCK_DIR``, else
``<tempdir>/attend-gpu-locks-<uid>``) must be the user's own: another user of a shared
server could otherwise create it first and plant a link that makes a job write into any
file the job can write. :func:`open_lock_folder` creates it with mode 0700 and refuses one
that is a symbolic link, not owned by the user, or writable by group or others; lock files
are opened inside it without following links, created 0600 and never truncated through a
path (the pid is written through the locked descriptor).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import stat
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

# One lock directory per user: another user's jobs on the same server never block (nor
# are blocked by) yours, and nobody needs write access to anybody else's locks. The same
# path for every process of the user (not a per-session one such as XDG_RUNTIME_DIR, which a
# job started from cron or after logout may not see), so two runs never book one slot twice.
DEFAULT_LOCK_DIR = Path(tempfile.gettempdir()) / f"attend-gpu-locks-{os.getuid()}"
LOCK_DIR_VARIABLE = "ATTEND_GPU_LOCK_DIR"  # names another lock folder (every run of the user must agree)
SLOTS_PER_GPU = 4  # training jobs that may share one GPU, unless ATTEND_SLOTS_PER_GPU says otherwise
WAIT_LOG_S = 60.0  # a job waiting for a slot says so this often


def _count_from_env(name: str, default: int, minimum: int) -> int:
    raw = os.environ.get(name, "")
    if raw.strip() == "":  # set but empty (e.g. `ATTEND_FAKE_GPUS= cmd`) means unset
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise ValueError(
            f"environment variable {name}={raw!r} must be a whole number >= {minimum} (unset it for the default)"
        )
    return value


def slots_per_gpu() -> int:
    """Training jobs that may share one GPU (``ATTEND_SLOTS_PER_GPU``, default 4)."""
    return _count_from_env("ATTEND_SLOTS_PER_GPU", SLOTS_PER_GPU, 1)


def gpu_slots() -> int:
    """Training jobs this machine's GPUs take at once: devices × slots per device (0 without a GPU)."""
    return detect_gpus() * slots_per_gpu()


def detect_gpus() -> int:
    """Number of NVIDIA GPUs on this machine (``ATTEND_FAKE_GPUS`` overrides)."""
    if os.environ.get("ATTEND_FAKE_GPUS", "").strip():
        return _count_from_env("ATTEND_FAKE_GPUS", 0, 0)
    if shutil.which("nvidia-smi") is None:
        return 0
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(line.startswith("GPU ") for line in out.splitlines())


# XLA's CPU client (Keras's JAX backend) otherwise spreads one job over every core, so two
# one-thread jobs on two cores would fight over both.
XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false"


def backend_environment(backend: str | None, threads: int, environ=os.environ) -> dict[str, str]:
    """The environment variables that make a job run on Keras backend ``backend`` (None:
    leave KERAS_BACKEND as it is) with ``threads`` CPU threads; set them before Keras is
    imported. Other XLA_FLAGS are kept."""
    env = {"KERAS_BACKEND": backend} if backend else {}
    for var in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[var] = str(threads)
    env["TF_NUM_INTEROP_THREADS"] = str(min(2, threads))
    flags = [f for f in environ.get("XLA_FLAGS", "").split() if not f.startswith("--xla_cpu_multi_thread_eigen")]
    env["XLA_FLAGS"] = " ".join(flags + ([XLA_ONE_THREAD] if threads == 1 else []))
    return env


def configure_threads(threads: int) -> None:
    """Thread counts for the math libraries, whichever backend the workflow chose (it sets
    KERAS_BACKEND; this leaves it alone); must run before Keras is imported."""
    os.environ.update(backend_environment(None, threads))


def hide_gpus() -> None:
    """Run this process on the CPU."""
    os.environ["CUDA_VISIBLE_DEVICES"] = ""


@dataclass
class Claim:
    device: str | None  # the CUDA_VISIBLE_DEVICES value this process runs with ("" = CPU)
    lock_file: object | None = None  # held open for the process's lifetime

    def release(self) -> None:
        if self.lock_file is not None:
            self.lock_file.close()
            self.lock_file = None


class UnsafeLockFolder(RuntimeError):
    """The GPU lock folder (or a lock file in it) could be redirected by another user."""


def lock_folder(environ=os.environ) -> Path:
    """The folder of the GPU slot locks: ``ATTEND_GPU_LOCK_DIR`` if set, else
    :data:`DEFAULT_LOCK_DIR`."""
    named = environ.get(LOCK_DIR_VARIABLE, "").strip()
    return Path(named) if named else DEFAULT_LOCK_DIR


def _unsafe(folder: Path, why: str) -> UnsafeLockFolder:
    """The refusal, with advice that is safe: remove the folder only when it is this
    project's own default folder and yours; otherwise (a folder you named, a shared folder
    such as the system's temporary folder, another user's) use a new folder of your own."""
    own_default = (
        folder == DEFAULT_LOCK_DIR
        and folder.is_dir()
        and not folder.is_symlink()
        and folder.stat().st_uid == os.getuid()
    )
    fix = (
        f"Remove it (rm -r {folder}: it is this project's own lock folder, and only lock files live there), or set "
        if own_default
        else "Do not delete it (it is not a folder this project made for you). Set "
    )
    return UnsafeLockFolder(
        f"GPU lock folder {folder} {why}; another user could use it to redirect this job's lock writes into "
        f"your files, so it is not used. {fix}{LOCK_DIR_VARIABLE} to a new folder of your own that only you can "
        "write (it is created with mode 0700 if absent, e.g. ~/.cache/attend-gpu-locks), the same for every run "
        "that shares these GPUs"
    )


def open_lock_folder(folder: Path) -> int:
    """A descriptor of the lock folder, created with mode 0700 if absent; refused
    (:class:`UnsafeLockFolder`, naming it) if it is a symbolic link, not a folder, not owned
    by this user, or writable by group or others. Lock files are opened relative to the
    descriptor, so the folder checked is the folder used."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700)
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:  # ELOOP: a symbolic link; ENOTDIR: a file
        kind = "is a symbolic link" if folder.is_symlink() else "is not a folder"
        raise _unsafe(folder, kind) from None
    info = os.fstat(fd)
    why = None
    if info.st_uid != os.getuid():
        why = f"is owned by uid {info.st_uid}, not by you (uid {os.getuid()})"
    elif info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        why = f"is writable by group or others (mode {stat.S_IMODE(info.st_mode):04o})"
    if why:
        os.close(fd)
        raise _unsafe(folder, why)
    return fd


def _try_lock(folder_fd: int, folder: Path, name: str):
    """The lock file ``name`` in the folder, opened without following a link, created 0600,
    never truncated by opening, and flock'ed; None while another process holds it."""
    try:
        fd = os.open(name, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=folder_fd)
    except OSError as err:  # ELOOP: a planted symbolic link
        raise _unsafe(folder, f"holds {name}, which cannot be opened as a plain file ({err.strerror})") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise _unsafe(folder, f"holds {name}, which is not a plain file")
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    os.ftruncate(fd, 0)  # through the locked descriptor: the file this process holds
    os.write(fd, f"{os.getpid()}\n".encode())
    return os.fdopen(fd, "r+b", buffering=0)


def claim_device(
    n_devices: int,
    slots_per_device: int = 1,
    lock_dir: Path | None = None,
    timeout_s: float = 24 * 3600,
    poll_s: float = 0.5,
    env=os.environ,
) -> Claim:
    """Lock a free (device, slot) and export its device index; wait while all are taken.
    ``lock_dir`` defaults to :func:`lock_folder`; it must be safe (:func:`open_lock_folder`)."""
    preset = env.get("CUDA_VISIBLE_DEVICES")
    if preset not in (None, ""):
        log.info("CUDA_VISIBLE_DEVICES=%s was set by the scheduler: using it as is", preset)
        return Claim(preset)
    if n_devices == 0:
        env["CUDA_VISIBLE_DEVICES"] = ""
        log.info("no GPU: running on the CPU")
        return Claim("")
    lock_dir = Path(lock_dir) if lock_dir is not None else lock_folder(env)
    folder_fd = open_lock_folder(lock_dir)
    try:
        return _claim(folder_fd, lock_dir, n_devices, slots_per_device, timeout_s, poll_s, env)
    finally:
        os.close(folder_fd)


def _claim(
    folder_fd: int, lock_dir: Path, n_devices: int, slots_per_device: int, timeout_s: float, poll_s: float, env
) -> Claim:
    start = time.monotonic()
    deadline, next_note = start + timeout_s, start
    while True:
        for slot in range(slots_per_device):  # fill every device's first slot first
            for device in range(n_devices):
                handle = _try_lock(folder_fd, lock_dir, f"gpu{device}.slot{slot}.lock")
                if handle is None:
                    continue
                env["CUDA_VISIBLE_DEVICES"] = str(device)
                log.info("claimed GPU %d (slot %d of %d)", device, slot + 1, slots_per_device)
                return Claim(str(device), handle)
        now = time.monotonic()
        if now > deadline:
            raise TimeoutError(
                f"no free GPU slot in {lock_dir} after {timeout_s:.0f} s: "
                f"{n_devices} devices x {slots_per_device} slots are all held"
            )
        if now >= next_note:
            log.info(
                "waiting for a free GPU slot: all %d devices x %d slots in %s are held by other jobs "
                "(waited %.0f s so far; ATTEND_SLOTS_PER_GPU sets the slots)",
                n_devices,
                slots_per_device,
                lock_dir,
                now - start,
            )
            next_note = now + WAIT_LOG_S
        time.sleep(poll_s)


def claim_device_for_job(
    threads: int, gpu: int, slots_per_device: int | None = None, lock_dir: Path | None = None
) -> Claim:
    """What a training job calls first: threads for the CPU, then a GPU slot if it asked
    for one (``slots_per_device`` defaults to :func:`slots_per_gpu`)."""
    configure_threads(threads)
    if not gpu:
        hide_gpus()
        log.info("running on the CPU with %d threads", threads)
        return Claim("")
    return claim_device(detect_gpus(), slots_per_device or slots_per_gpu(), lock_dir)
