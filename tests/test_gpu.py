"""GPU claiming (attend.gpu) across real processes: each job is a separate Python process
that claims a device, reports what it got, and holds it until told to exit (or is killed).

No TensorFlow: ``ATTEND_FAKE_GPUS`` simulates the devices and every test uses its own
lock directory, so nothing here touches a real GPU or the default lock directory.
"""

import json
import os
import select
import signal
import stat
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from attend.gpu import XLA_ONE_THREAD, backend_environment

# A training job's first lines (as in workflow/scripts/train.py), then: report the
# environment the job would import TensorFlow with, and hold the claim until stdin closes.
HOLDER = r"""
import json, os, sys
from attend.gpu import claim_device_for_job

threads, slots, gpu, lock_dir = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
claim = claim_device_for_job(threads, gpu, slots, lock_dir=lock_dir)
keys = ["CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
        "TF_NUM_INTEROP_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"]
report = {k: os.environ.get(k) for k in keys}
report["claim_device"] = claim.device
report["holds_lock"] = claim.lock_file is not None
print(json.dumps(report), flush=True)
sys.stdin.read()  # hold the device until the test closes our stdin
"""

STARTUP_S = 15  # generous: a cold Python start on a loaded 2-core machine


class Job:
    def __init__(self, lock_dir, n_gpus, gpu=1, slots=1, threads=1, preset=None):
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("CUDA_VISIBLE_DEVICES", "ATTEND_FAKE_GPUS") and not k.endswith("_NUM_THREADS")
        }
        env["ATTEND_FAKE_GPUS"] = str(n_gpus)
        if preset is not None:
            env["CUDA_VISIBLE_DEVICES"] = preset
        self.proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(threads), str(slots), str(gpu), str(lock_dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self._report = None

    def report(self, timeout=STARTUP_S):
        """The job's claim, or None if it has not claimed anything within `timeout`."""
        if self._report is None:
            ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
            if not ready:
                return None
            line = self.proc.stdout.readline()
            if not line:
                raise AssertionError(f"job exited with {self.proc.wait()}: {self.proc.stderr.read()}")
            self._report = json.loads(line)
        return self._report

    @property
    def device(self):
        report = self.report()
        assert report is not None, "job did not claim a device in time"
        return report["CUDA_VISIBLE_DEVICES"]

    def finish(self):
        """Let the job end normally (closing its stdin), releasing its claim."""
        self.proc.stdin.close()
        assert self.proc.wait(timeout=STARTUP_S) == 0, self.proc.stderr.read()

    def kill9(self):
        os.kill(self.proc.pid, signal.SIGKILL)
        assert self.proc.wait(timeout=STARTUP_S) == -signal.SIGKILL


@pytest.fixture
def start(tmp_path):
    """start(n_gpus, **kw) -> a running Job sharing this test's lock directory."""
    jobs = []
    lock_dir = tmp_path / "locks"

    def _start(n_gpus, **kw):
        job = Job(lock_dir, n_gpus, **kw)
        jobs.append(job)
        return job

    _start.lock_dir = lock_dir
    yield _start
    for job in jobs:
        if job.proc.poll() is None:
            job.proc.kill()
        job.proc.wait()
        for stream in (job.proc.stdin, job.proc.stdout, job.proc.stderr):
            if not stream.closed:
                stream.close()


def test_overlapping_jobs_get_distinct_devices(start):
    jobs = [start(3) for _ in range(3)]
    assert sorted(job.device for job in jobs) == ["0", "1", "2"]
    assert all(job.report()["holds_lock"] for job in jobs)


def test_two_slots_per_device_put_at_most_two_jobs_on_one(start):
    jobs = [start(2, slots=2) for _ in range(4)]
    devices = [job.device for job in jobs]
    assert Counter(devices) == {"0": 2, "1": 2}
    # a fifth job finds every slot taken and waits rather than overbook a device
    assert start(2, slots=2).report(timeout=2.0) is None


def test_first_slots_fill_before_sharing(start):
    first = start(2, slots=2)
    assert first.device is not None  # claimed before the second starts
    second = start(2, slots=2)
    assert {first.device, second.device} == {"0", "1"}


def test_killed_job_frees_its_device(start):
    jobs = [start(2) for _ in range(2)]
    devices = {job.device: job for job in jobs}
    assert set(devices) == {"0", "1"}
    devices["1"].kill9()  # no cleanup runs: the kernel must drop the flock
    assert start(2).device == "1"


def test_busy_devices_make_a_job_wait_until_one_is_freed(start):
    holders = [start(2) for _ in range(2)]
    by_device = {job.device: job for job in holders}
    waiter = start(2)
    assert waiter.report(timeout=2.5) is None, "claimed a device that another job holds"
    by_device["0"].finish()
    report = waiter.report(timeout=10)
    assert report is not None, "did not pick up the freed device"
    assert report["CUDA_VISIBLE_DEVICES"] == "0" and report["holds_lock"]


def test_preset_visible_devices_are_kept_and_lock_nothing(start):
    preset = start(2, preset="1")
    report = preset.report()
    assert report is not None
    assert report["CUDA_VISIBLE_DEVICES"] == "1" and report["claim_device"] == "1"
    assert not report["holds_lock"]
    lock_dir = start.lock_dir
    assert not lock_dir.exists() or not any(lock_dir.iterdir())
    # both devices are still free for jobs the scheduler did not place
    assert sorted(start(2).device for _ in range(2)) == ["0", "1"]


@pytest.mark.parametrize("n_gpus, gpu", [(0, 0), (0, 1), (2, 0)])
def test_cpu_jobs_hide_gpus_and_use_the_given_threads(start, n_gpus, gpu):
    """No device on the machine, or the job did not ask for one: CPU, threads as given."""
    report = start(n_gpus, gpu=gpu, threads=3).report()
    assert report is not None
    assert report["CUDA_VISIBLE_DEVICES"] == "" and report["claim_device"] == ""
    assert not report["holds_lock"]
    for var in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        assert report[var] == "3", var
    assert report["TF_NUM_INTEROP_THREADS"] == "2"
    if n_gpus:  # a CPU job must not use up a GPU slot
        assert sorted(start(n_gpus).device for _ in range(n_gpus)) == ["0", "1"]


def test_gpu_jobs_also_get_their_thread_counts(start):
    report = start(1, threads=1).report()
    assert report["CUDA_VISIBLE_DEVICES"] == "0"
    assert report["OMP_NUM_THREADS"] == "1" and report["TF_NUM_INTEROP_THREADS"] == "1"


class FakeClock:
    """Stands in for the ``time`` module of attend.gpu: ``sleep`` advances ``monotonic``
    at once, so waits of hours take no time and count exactly."""

    def __init__(self):
        self.now, self.sleeps = 1000.0, 0

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds
        self.sleeps += 1


@pytest.fixture
def clock(monkeypatch):
    from attend import gpu

    fake = FakeClock()
    monkeypatch.setattr(gpu, "time", fake)
    return fake


def test_timeout_when_no_slot_frees(tmp_path, clock):
    """In-process: a claim that cannot be served in `timeout_s` raises, naming the lock dir,
    after polling every `poll_s` until then."""
    from attend.gpu import claim_device

    env = {}
    held = claim_device(1, 1, tmp_path, env=env)
    try:
        assert env["CUDA_VISIBLE_DEVICES"] == "0"
        with pytest.raises(TimeoutError, match=str(tmp_path)):
            claim_device(1, 1, tmp_path, timeout_s=3600, poll_s=0.5, env={})
        assert clock.sleeps == 7201, "a poll every half second until past the hour, then it gives up"
    finally:
        held.release()
    again = {}
    claim_device(1, 1, tmp_path, env=again).release()  # released: free again
    assert again["CUDA_VISIBLE_DEVICES"] == "0"


def test_detect_gpus(monkeypatch):
    from attend import gpu

    monkeypatch.setenv("ATTEND_FAKE_GPUS", "3")
    assert gpu.detect_gpus() == 3
    # unset or empty: ask nvidia-smi, counting its "GPU i: ..." lines
    listing = "GPU 0: NVIDIA H100 (UUID: GPU-a)\nGPU 1: NVIDIA H100 (UUID: GPU-b)\n"
    monkeypatch.setattr(gpu.shutil, "which", lambda name: "/usr/bin/nvidia-smi")
    monkeypatch.setattr(gpu.subprocess, "run", lambda *a, **kw: subprocess.CompletedProcess(a, 0, stdout=listing))
    for value in (None, ""):
        if value is None:
            monkeypatch.delenv("ATTEND_FAKE_GPUS")
        else:
            monkeypatch.setenv("ATTEND_FAKE_GPUS", value)
        assert gpu.detect_gpus() == 2
    monkeypatch.setattr(gpu.shutil, "which", lambda name: None)
    assert gpu.detect_gpus() == 0


@pytest.mark.parametrize(
    "name, value",
    [
        ("ATTEND_FAKE_GPUS", "two"),
        ("ATTEND_FAKE_GPUS", "-1"),
        ("ATTEND_SLOTS_PER_GPU", "0"),
        ("ATTEND_SLOTS_PER_GPU", "4.5"),
    ],
)
def test_bad_gpu_environment_is_named(monkeypatch, name, value):
    from attend import gpu

    monkeypatch.setenv("ATTEND_FAKE_GPUS", "1")
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=f"{name}={value!r}.*whole number"):
        gpu.gpu_slots()


def test_slots_per_gpu_from_the_environment(monkeypatch):
    from attend import gpu

    monkeypatch.setenv("ATTEND_FAKE_GPUS", "2")
    monkeypatch.delenv("ATTEND_SLOTS_PER_GPU", raising=False)
    assert gpu.gpu_slots() == 2 * gpu.SLOTS_PER_GPU
    monkeypatch.setenv("ATTEND_SLOTS_PER_GPU", "3")
    assert gpu.gpu_slots() == 6


def test_a_waiting_job_says_what_it_waits_for(tmp_path, clock, caplog):
    """A job that finds every slot held logs that it waits, for which slots, and how long:
    at once, then every WAIT_LOG_S."""
    from attend import gpu

    held = gpu.claim_device(1, 1, tmp_path, env={})
    try:
        with caplog.at_level("INFO", logger="attend.gpu"), pytest.raises(TimeoutError):
            gpu.claim_device(1, 1, tmp_path, timeout_s=5 * gpu.WAIT_LOG_S, poll_s=0.5, env={})
    finally:
        held.release()
    waits = [r.getMessage() for r in caplog.records if "waiting for a free GPU slot" in r.getMessage()]
    assert len(waits) == 6, caplog.text  # at 0, 60, 120, 180, 240 and 300 s
    assert "1 devices x 1 slots" in waits[0] and str(tmp_path) in waits[0] and "waited 0 s" in waits[0]
    assert f"waited {5 * gpu.WAIT_LOG_S:.0f} s" in waits[-1]


def test_lock_directory_is_per_user(monkeypatch, tmp_path):
    from attend import gpu

    assert gpu.DEFAULT_LOCK_DIR.name == f"attend-gpu-locks-{os.getuid()}"
    assert gpu.lock_folder({}) == gpu.DEFAULT_LOCK_DIR
    assert gpu.lock_folder({gpu.LOCK_DIR_VARIABLE: str(tmp_path / "mine")}) == tmp_path / "mine"


def test_a_new_lock_folder_is_private(tmp_path):
    """Created 0700, its lock files 0600, each holding the pid of the job that holds it."""
    from attend.gpu import claim_device

    folder = tmp_path / "locks"
    claim = claim_device(1, 1, folder, env={})
    try:
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        lock = folder / "gpu0.slot0.lock"
        assert stat.S_IMODE(lock.stat().st_mode) == 0o600
        assert lock.read_text() == f"{os.getpid()}\n"
    finally:
        claim.release()


@pytest.fixture
def victim(tmp_path):
    """A file of the user's that a hostile lock folder would make a job overwrite."""
    path = tmp_path / "precious.txt"
    path.write_text("keep me\n")
    path.chmod(0o600)
    return path


def _refused(folder, victim, why):
    from attend.gpu import UnsafeLockFolder, claim_device

    env = {}
    with pytest.raises(UnsafeLockFolder, match=why) as err:
        claim_device(1, 1, folder, env=env)
    assert str(folder) in str(err.value) and "ATTEND_GPU_LOCK_DIR" in str(err.value)
    assert "CUDA_VISIBLE_DEVICES" not in env
    assert victim.read_text() == "keep me\n", "the planted link's target was written"


def test_a_foreign_lock_folder_with_a_planted_link_is_refused(tmp_path, victim):
    """The issue's case: another user made the folder first and planted
    gpu0.slot0.lock -> a file of ours; the job refuses the folder, naming it."""
    folder = tmp_path / "locks"
    folder.mkdir(mode=0o755)
    (folder / "gpu0.slot0.lock").symlink_to(victim)
    os.chown(folder, 54321, 54321)  # tests run as root here: as if another user had made it
    _refused(folder, victim, "owned by uid 54321")


def test_a_lock_folder_that_is_a_link_is_refused(tmp_path, victim):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    (elsewhere / "gpu0.slot0.lock").symlink_to(victim)
    folder = tmp_path / "locks"
    folder.symlink_to(elsewhere)
    _refused(folder, victim, "is a symbolic link")
    assert [p.name for p in elsewhere.iterdir()] == ["gpu0.slot0.lock"]


def test_a_world_writable_lock_folder_is_refused(tmp_path, victim):
    folder = tmp_path / "locks"
    folder.mkdir()
    folder.chmod(0o1777)
    _refused(folder, victim, "writable by group or others")


def test_the_system_temp_folder_named_as_lock_folder_is_refused_without_advising_its_removal(monkeypatch):
    """ATTEND_GPU_LOCK_DIR set to /tmp: refused (writable by others), and the advice is to
    name a folder of one's own, never `rm -r /tmp`."""
    import tempfile

    from attend.gpu import UnsafeLockFolder, claim_device, lock_folder

    shared = Path(tempfile.gettempdir())
    env = {"ATTEND_GPU_LOCK_DIR": str(shared)}
    with pytest.raises(UnsafeLockFolder, match="writable by group or others") as err:
        claim_device(1, 1, lock_folder(env), env=env)
    assert "rm -r" not in str(err.value)
    assert "Do not delete it" in str(err.value) and "a new folder of your own" in str(err.value)


def test_the_own_default_lock_folder_may_be_removed(monkeypatch, tmp_path):
    """The project's own default folder, made group-writable: removing it is the advice."""
    from attend import gpu

    folder = tmp_path / "attend-gpu-locks"
    monkeypatch.setattr(gpu, "DEFAULT_LOCK_DIR", folder)
    folder.mkdir()
    folder.chmod(0o770)
    with pytest.raises(gpu.UnsafeLockFolder, match=f"rm -r {folder}"):
        gpu.claim_device(1, 1, folder, env={})


def test_a_planted_link_in_an_own_folder_is_not_followed(tmp_path, victim):
    folder = tmp_path / "locks"
    folder.mkdir(mode=0o700)
    (folder / "gpu0.slot0.lock").symlink_to(victim)
    _refused(folder, victim, "gpu0.slot0.lock, which cannot be opened as a plain file")


@pytest.mark.parametrize("backend", ["jax", "tensorflow"])
def test_backend_environment_pins_one_thread_jobs_to_one_core(backend):
    """One-thread jobs turn XLA's multi-threaded CPU client off (else a JAX job spreads over
    every core); a job given more threads keeps it. A user's other XLA flags survive."""
    inherited = {"XLA_FLAGS": "--xla_dump_to=/tmp/x --xla_cpu_multi_thread_eigen=true"}
    one = backend_environment(backend, 1, inherited)
    assert one["KERAS_BACKEND"] == backend
    assert one["XLA_FLAGS"].split() == ["--xla_dump_to=/tmp/x", XLA_ONE_THREAD]
    assert one["OMP_NUM_THREADS"] == one["TF_NUM_INTRAOP_THREADS"] == "1"
    many = backend_environment(backend, 4, inherited)
    assert many["XLA_FLAGS"].split() == ["--xla_dump_to=/tmp/x"]
    assert many["OMP_NUM_THREADS"] == "4" and many["TF_NUM_INTEROP_THREADS"] == "2"
    assert backend_environment(backend, 1, {})["XLA_FLAGS"] == XLA_ONE_THREAD
    assert "KERAS_BACKEND" not in backend_environment(None, 1, {}), "None leaves the backend to the caller"
