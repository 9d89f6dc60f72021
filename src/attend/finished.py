"""A trained model kept where Snakemake does not delete it, and restored instead of
retrained.

Snakemake deletes a job's outputs before it reruns the job, and the outputs of a job that
fails. A training job that fails because its dataset was damaged, or that reruns because its
dataset was regenerated (a newer file, the same bytes), would otherwise cost the trained
model. So the training job also keeps what it made in ``checkpoint/finished/`` beside the
model (the checkpoint folder is a parameter of the job, not an output), with a manifest:
the **fingerprint** of what the model was trained from (its settings, the checksums of its
input files and the code version of the training: ``attend.provenance.fingerprint``) and
the checksum of each file. A training job whose fingerprint equals the manifest's restores
the files in seconds (:func:`restore`, with a log line saying so) instead of training: the
same inputs, settings and code make the same bytes, since training is deterministic.

Folder layout::

    checkpoint/finished/model.keras, train_log.csv, metrics.json
    checkpoint/finished/manifest.json   {"fingerprint": ..., "files": {name: sha256}}

To train again anyway, delete ``checkpoint/finished/`` and force the job. No Keras here:
a restoring job never imports it.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path

from .artifacts import atomic_write, file_digest, write_text

log = logging.getLogger(__name__)

FOLDER = "finished"
MANIFEST = "manifest.json"
FILES = ("model.keras", "train_log.csv", "metrics.json")  # what a training job makes from its inputs


def folder(checkpoint_dir: str | Path) -> Path:
    return Path(checkpoint_dir) / FOLDER


def keep(checkpoint_dir: str | Path, fingerprint: str, outputs: dict[str, str | Path]) -> None:
    """Copy a finished job's outputs (``{name in FILES: path}``) into ``finished/`` with
    their manifest. The folder is written beside and renamed into place, so a kill leaves
    the old one or the new one, never a mix."""
    final = folder(checkpoint_dir)
    tmp = final.with_name(f".{FOLDER}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name in FILES:
        shutil.copyfile(outputs[name], tmp / name)
    manifest = {"fingerprint": fingerprint, "files": {name: file_digest(tmp / name) for name in FILES}}
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)


def restore(
    checkpoint_dir: str | Path, fingerprint: str, outputs: dict[str, str | Path], timing_path: str | Path | None = None
) -> bool:
    """Copy the kept files to ``outputs`` ({name in FILES: path}) if they were trained from
    ``fingerprint`` and are intact (and write ``timing_path``: how the job ran); False,
    with nothing written, otherwise."""
    began = time.perf_counter()
    kept = folder(checkpoint_dir)
    try:
        manifest = json.loads((kept / MANIFEST).read_text())
        recorded, digests = manifest["fingerprint"], manifest["files"]
    except FileNotFoundError:
        return False
    except (OSError, ValueError, KeyError, TypeError) as err:
        log.warning("not restoring from %s: its %s is unreadable (%s); training", kept, MANIFEST, err)
        return False
    if recorded != fingerprint:
        log.info(
            "the model kept in %s was trained from other settings, inputs or code (fingerprint %s, this job's "
            "is %s); training",
            kept,
            recorded,
            fingerprint,
        )
        return False
    for name in FILES:
        if not (kept / name).is_file() or file_digest(kept / name) != digests.get(name):
            log.warning("not restoring from %s: its %s is missing or damaged; training", kept, name)
            return False
    for name in FILES:
        atomic_write(outputs[name], lambda tmp, name=name: shutil.copyfile(kept / name, tmp))
    if timing_path is not None:
        write_text(
            timing_path,
            json.dumps(
                {"wall_s": round(time.perf_counter() - began, 3), "resumed_after_periods": 0, "restored": True},
                indent=1,
            )
            + "\n",
        )
    log.info(
        "restored %s from %s: they were trained from the same settings, inputs and code (fingerprint %s), "
        "so nothing is retrained. To train again anyway, delete %s and force this job "
        "(snakemake --force %s)",
        ", ".join(FILES),
        kept,
        fingerprint,
        kept,
        outputs["model.keras"],
    )
    return True
