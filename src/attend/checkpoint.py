"""Training state that survives any kill.

A killed training job (a wall-time limit, ``scancel``, the OOM killer: SIGKILL, with no
chance to clean up) resumes from its last validation period. :class:`TrainingCheckpoint`
writes each period's weights (optimizer state included) to a new file, renames it into
place, and only then points ``state.json`` at it (written and renamed the same way), so a
kill at any moment leaves either the previous complete checkpoint or the new one, never a
torn file. The state records the **fingerprint** of what the model is trained from (its
settings, its input files and its code): a checkpoint of other settings, inputs or code is
discarded with a log line, as is one that cannot be read, instead of being resumed. The job
holds an exclusive lock on the folder for its lifetime, so two trainers (say, an orphan of
a killed Snakemake and its rerun) never write one checkpoint.

Folder layout (``checkpoint/`` beside the model; all but ``lock`` and ``finished/`` removed
when the job finishes)::

    lock                    flock'ed by the running job (holds its pid while it runs)
    state.json              {"epoch", "weights", "fingerprint", "stopped"}
    epoch{E}.weights.h5     the weights after E validation periods
    train_log.csv           the training log so far (:func:`keep_log_rows` drops a row a kill cut
                            short or one logged after the last checkpoint)
    finished/               the finished model, kept (attend.finished)
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from contextlib import contextmanager
from pathlib import Path

import keras
import numpy as np

from .artifacts import atomic_write_path, write_text

log = logging.getLogger(__name__)

STATE = "state.json"


class CheckpointInUse(RuntimeError):
    """Another process is training into this checkpoint folder."""


class TrainingCheckpoint(keras.callbacks.Callback):
    """Save at the end of every validation period (Keras epoch); :meth:`restore` before
    ``fit``. Place it after the callbacks whose logs it must not run ahead of."""

    def __init__(self, folder: str | Path, fingerprint: str):
        super().__init__()
        self.folder, self.fingerprint = Path(folder), fingerprint
        self.discarded = False  # whether restore() threw a checkpoint away
        self._lock = None

    # ------------------------------------------------------------------ lock

    @contextmanager
    def held(self):
        """Hold the folder's lock while the block runs; :class:`CheckpointInUse` if another
        process holds it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        handle = open(self.folder / "lock", "a+")  # noqa: SIM115  held until the block ends
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "unknown"
            handle.close()
            raise CheckpointInUse(
                f"{self.folder} is in use by another training process (pid {owner}): two trainers must not "
                "share one checkpoint. If a killed Snakemake left that process running, wait for it or end it "
                f"(kill {owner}), then rerun."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._lock = handle
        try:
            yield self
        finally:
            self._lock = None
            handle.truncate(0)  # no pid left behind: a finished job's folder is the same bytes on every run
            handle.close()

    # ------------------------------------------------------------------ restore

    def clear(self) -> None:
        """Remove the resumable state (weights, state, partial log), keeping the lock and
        any kept finished model (``finished/``, attend.finished)."""
        for path in self.folder.iterdir():
            if path.name != "lock" and not path.is_dir():
                path.unlink()

    def discard(self, why: str) -> None:
        log.warning("discarding the checkpoint in %s: %s; training starts over", self.folder, why)
        self.discarded = True
        self.clear()

    def restore(self, model) -> dict | None:
        """Load the latest checkpoint into ``model`` (built and compiled) if it was made
        from the same fingerprint; return its state ({"epoch", "stopped", ...}), or None
        when there is none to resume (none saved, or discarded: unreadable, or of other
        settings). After a discard (:attr:`discarded`) the caller must start from a freshly
        built model, since a failed load may have changed some weights."""
        state_path = self.folder / STATE
        if not state_path.exists():
            for stray in self.folder.glob("*.weights.h5"):  # a kill before the first state
                stray.unlink()
            return None
        try:
            state = json.loads(state_path.read_text())
            weights = self.folder / state["weights"]
            epoch, fingerprint = int(state["epoch"]), state["fingerprint"]
        except (OSError, ValueError, KeyError, TypeError) as err:
            self.discard(f"its {STATE} is unreadable ({type(err).__name__}: {err})")
            return None
        if fingerprint != self.fingerprint:
            self.discard(
                f"it was trained from other settings, inputs or code (fingerprint {fingerprint}, "
                f"this job's is {self.fingerprint})"
            )
            return None
        try:
            if model.optimizer is not None and not model.optimizer.built:
                model.optimizer.build(model.trainable_variables)
            model.load_weights(weights)
        except Exception as err:  # a truncated or foreign h5 file: OSError, ValueError, KeyError...
            self.discard(f"its weights {weights.name} cannot be loaded ({type(err).__name__}: {err})")
            return None
        log.info("resuming from the checkpoint in %s after %d validation periods", self.folder, epoch)
        return state

    # ------------------------------------------------------------------ save

    def on_epoch_end(self, epoch, logs=None):
        done = epoch + 1
        weights = self.folder / f"epoch{done}.weights.h5"
        atomic_write_path(weights, lambda tmp: self.model.save_weights(tmp, overwrite=True))
        state = {
            "epoch": done,
            "weights": weights.name,
            "fingerprint": self.fingerprint,
            "stopped": bool(self.model.stop_training),
        }
        write_text(self.folder / STATE, json.dumps(state) + "\n")
        for old in self.folder.glob("epoch*.weights.h5"):
            if old != weights:
                old.unlink()


# ---------------------------------------------------------------------------- the partial log


def logged_column(path: Path, column: str) -> list[float]:
    """One column of a (partial) CSVLogger log, [] when there is none yet."""
    if not Path(path).exists():
        return []
    rows = np.atleast_1d(np.genfromtxt(path, delimiter=",", names=True))
    return [] if rows.dtype.names is None or column not in rows.dtype.names else [float(x) for x in rows[column]]


def keep_log_rows(path: Path, epochs: int) -> None:
    """Keep the header and the complete rows of the first ``epochs`` epochs of a CSVLogger
    log; a row cut short by a kill, or anything else unreadable, is dropped."""
    if not path.exists():
        return
    lines = path.read_bytes().decode("utf-8", "replace").splitlines(keepends=True)
    if not lines or epochs == 0:
        path.unlink()
        return
    width = lines[0].count(",")

    def complete(line: str) -> bool:
        head = line.split(",", 1)[0]
        return line.endswith("\n") and line.count(",") == width and head.isdigit() and int(head) < epochs

    write_text(path, "".join(lines[:1] + [line for line in lines[1:] if complete(line)]))
