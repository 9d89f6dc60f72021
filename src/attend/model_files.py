"""Saved Keras models: written so that the same weights are the same bytes, and loaded in
Keras's safe mode with their identity checked.

A model carries its identity (task, architecture, seed, dataset checksum and the
fingerprint of what it was trained from) in its saved config (``EncoderDecoder.identity``); a
consumer passes what it expects, and a model copied from another run is refused by name
(``attend.artifacts.check_identity``).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from pathlib import Path

import keras

from . import finished
from .architectures import ARCHITECTURES
from .artifacts import DataError, atomic_write, check_identity, regenerate
from .models import EncoderDecoder, model_class

FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry


def save_model(model, path: str | Path) -> None:
    """``model.save`` with every byte a function of the model: the zip's entry times are
    fixed and Keras's ``date_saved`` is left out, so the same weights give the same file.
    Written through a temporary file and renamed into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Keras writes by file name: into a private folder (0700, random name), never a guessable path.
    private = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
    try:
        raw = private / path.name
        model.save(raw)

        def write(fh) -> None:
            with zipfile.ZipFile(raw) as src, zipfile.ZipFile(fh, "w") as dst:
                for info in src.infolist():
                    data = src.read(info)
                    if info.filename == "metadata.json":
                        meta = json.loads(data)
                        meta.pop("date_saved", None)
                        data = json.dumps(meta, sort_keys=True).encode()
                    entry = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME)
                    entry.compress_type, entry.external_attr = info.compress_type, 0o644 << 16
                    dst.writestr(entry, data)

        atomic_write(path, write)
    finally:
        shutil.rmtree(private, ignore_errors=True)


def _import_model_class(path) -> None:
    """Import the module of the saved model's class (it registers the class with Keras),
    named by the architecture its config records; a file that says nothing of it is left to
    Keras's own error."""
    with zipfile.ZipFile(path) as archive:
        arch = json.loads(archive.read("config.json")).get("config", {}).get("arch")
    if arch in ARCHITECTURES:
        model_class(arch)


def load_model(path, expect: dict | None = None) -> EncoderDecoder:
    """Load a saved model in Keras safe mode (no arbitrary code); ``expect`` (task, arch,
    seed, dataset checksum...) must match the identity it was saved with."""
    if not Path(path).is_file():
        raise DataError(f"{path}: the model file is missing")
    try:
        _import_model_class(path)
        model = keras.models.load_model(path, safe_mode=True, compile=False)
    except Exception as err:  # a truncated zip makes Keras say "File not found" for a file that exists
        raise DataError(
            f"{path}: not a readable Keras model ({type(err).__name__}: {err}); it is truncated "
            f"or foreign: {regenerate(path)}"
        ) from None
    if expect:
        check_identity(model.identity, expect, path, "model")
    return model


def load_trained_model(path, metrics_path, checkpoint_dir, expect: dict) -> EncoderDecoder:
    """A workflow's trained model, as the jobs that probe it read it: its recorded identity
    against ``expect`` and its file against the checksum its ``metrics.json`` records; a
    refusal says to move the training job's kept copy away first when there is one (forcing
    the job alone would restore that copy: ``attend.finished.advice``)."""
    try:
        model = load_model(path, expect=expect)
        finished.check_trained_model(path, metrics_path)
    except DataError as err:
        raise DataError(finished.advice(err, path, checkpoint_dir)) from None
    return model
