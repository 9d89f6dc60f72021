"""Training state that survives any kill, and saved models that are the same bytes for
the same weights.

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

Folder layout (``checkpoint/`` beside the model; removed when the job finishes)::

    lock                    flock'ed by the running job (holds its pid)
    state.json              {"epoch", "weights", "fingerprint", "stopped"}
    epoch{E}.weights.h5     the weights after E validation periods
    train_log.csv           the training log so far
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import zipfile
from contextlib import contextmanager
from pathlib import Path

import keras

log = logging.getLogger(__name__)

STATE = "state.json"


class CheckpointInUse(RuntimeError):
    """Another process is training into this checkpoint folder."""


def _write_atomically(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


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
        handle = open(self.folder / "lock", "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "unknown"
            handle.close()
            raise CheckpointInUse(
                f"{self.folder} is in use by another training process (pid {owner}): two trainers must not "
                "share one checkpoint. If a killed Snakemake left that process running, wait for it or end it "
                f"(kill {owner}), then rerun.") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._lock = handle
        try:
            yield self
        finally:
            self._lock = None
            handle.close()

    # ------------------------------------------------------------------ restore

    def discard(self, why: str) -> None:
        log.warning("discarding the checkpoint in %s: %s; training starts over", self.folder, why)
        self.discarded = True
        for path in self.folder.iterdir():
            if path.name != "lock":
                path.unlink()

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
            self.discard(f"it was trained from other settings, inputs or code (fingerprint {fingerprint}, "
                         f"this job's is {self.fingerprint})")
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
        tmp = self.folder / f"tmp{os.getpid()}.weights.h5"  # Keras wants the .weights.h5 suffix
        try:
            self.model.save_weights(tmp, overwrite=True)
            os.replace(tmp, weights)
        finally:
            tmp.unlink(missing_ok=True)
        state = {"epoch": done, "weights": weights.name, "fingerprint": self.fingerprint,
                 "stopped": bool(self.model.stop_training)}
        _write_atomically(self.folder / STATE, lambda p: p.write_text(json.dumps(state) + "\n"))
        for old in self.folder.glob("epoch*.weights.h5"):
            if old != weights:
                old.unlink()


# ---------------------------------------------------------------------------- models

FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry


def save_model(model, path: str | Path) -> None:
    """``model.save`` with every byte a function of the model: the zip's entry times are
    fixed and Keras's ``date_saved`` is left out, so the same weights give the same file.
    Written through a temporary file and renamed into place."""
    path = Path(path)
    raw = path.with_name(f".{path.stem}.raw{os.getpid()}.keras")
    try:
        model.save(raw)

        def write(tmp: Path) -> None:
            with zipfile.ZipFile(raw) as src, zipfile.ZipFile(tmp, "w") as dst:
                for info in src.infolist():
                    data = src.read(info)
                    if info.filename == "metadata.json":
                        meta = json.loads(data)
                        meta.pop("date_saved", None)
                        data = json.dumps(meta, sort_keys=True).encode()
                    entry = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME)
                    entry.compress_type, entry.external_attr = info.compress_type, 0o644 << 16
                    dst.writestr(entry, data)

        _write_atomically(path, write)
    finally:
        raw.unlink(missing_ok=True)
