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

The manifest is not trusted alone: before restoring, the kept model's own record of what it
is (the identity in its saved config: task, architecture, seed, dataset checksum, variant,
settings digest and the fingerprint) and the kept metrics' record (the same identity and the
model file's checksum) must be this job's. A kept copy that is not (another seed's model
under a manifest rewritten to match, weights altered after training) is set aside, renamed
to ``checkpoint/set-aside-<n>/`` with a warning that names why, and the model is trained.

To train again anyway, delete ``checkpoint/finished/`` and force the job. No Keras here:
a restoring job never imports it (the model's identity is read from its zip's config.json).
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
import zipfile
from pathlib import Path

from .artifacts import DataError, atomic_write, file_digest, read_json, regenerate, write_text

log = logging.getLogger(__name__)

FOLDER = "finished"
MANIFEST = "manifest.json"
FILES = ("model.keras", "train_log.csv", "metrics.json")  # what a training job makes from its inputs


def folder(checkpoint_dir: str | Path) -> Path:
    return Path(checkpoint_dir) / FOLDER


def keep(checkpoint_dir: str | Path, fingerprint: str, outputs: dict[str, str | Path]) -> None:
    """Copy a finished job's outputs (``{name in FILES: path}``) into ``finished/`` with
    their manifest. The folder is written beside (a private folder of random name) and
    renamed into place, so a kill leaves the old one or the new one, never a mix."""
    final = folder(checkpoint_dir)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{FOLDER}."))
    try:
        for name in FILES:
            shutil.copyfile(outputs[name], tmp / name)
        manifest = {"fingerprint": fingerprint, "files": {name: file_digest(tmp / name) for name in FILES}}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        tmp.chmod(0o755)
        shutil.rmtree(final, ignore_errors=True)
        tmp.rename(final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def model_identity(path: str | Path) -> dict:
    """The identity a saved model records in its config (``model.identity``), read from the
    ``.keras`` zip without Keras; {} if it records none."""
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
    return dict(config.get("config", {}).get("identity") or {})


def _not_this_jobs(kept: Path, identity: dict) -> str | None:
    """Why the kept files are not what this job would have trained, or None: the model's
    and the metrics' recorded identity against the job's, and the metrics' record of the
    model file's checksum."""
    try:
        recorded = {
            "model.keras": model_identity(kept / "model.keras"),
            "metrics.json": json.loads((kept / "metrics.json").read_text()),
        }
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as err:
        return f"its model or metrics cannot be read ({type(err).__name__}: {err})"
    for name, found in recorded.items():
        wrong = [f"{k} is {found.get(k)!r}, this job's {v!r}" for k, v in identity.items() if found.get(k) != v]
        if wrong:
            return f"its {name} records another model ({'; '.join(wrong)})"
    if recorded["metrics.json"].get("model_sha256") != file_digest(kept / "model.keras"):
        return "its model.keras is not the model its metrics.json was written with (checksums differ)"
    return None


def set_aside(kept: Path) -> Path:
    """Rename a kept copy that is not this job's out of the way (never deleted: it may be
    someone's work), to ``set-aside-<n>`` beside it."""
    n = 1
    while (aside := kept.with_name(f"set-aside-{n}")).exists():
        n += 1
    kept.rename(aside)
    return aside


def restore(
    checkpoint_dir: str | Path,
    fingerprint: str,
    outputs: dict[str, str | Path],
    timing_path: str | Path | None = None,
    identity: dict | None = None,
) -> bool:
    """Copy the kept files to ``outputs`` ({name in FILES: path}) if they were trained from
    ``fingerprint``, are intact and (given ``identity``, what the job's model records:
    task, arch, seed, dataset, variant, settings digest, fingerprint) are this job's model;
    then write ``timing_path`` (how the job ran). False, with nothing written, otherwise: a
    kept copy that is another model is set aside (:func:`set_aside`)."""
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
    why = _not_this_jobs(kept, identity) if identity is not None else None
    if why:
        aside = set_aside(kept)
        log.warning(
            "not restoring from %s: %s, although its manifest matches this job. It was set aside as %s "
            "(delete it once you know where it came from); training",
            kept,
            why,
            aside,
        )
        return False
    for name in FILES:
        atomic_write(outputs[name], lambda fh, name=name: fh.write((kept / name).read_bytes()))
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


def check_trained_model(model_path: str | Path, metrics_path: str | Path) -> None:
    """Refuse (:class:`DataError`) a model file that is not the one its training job saved
    beside ``metrics_path`` (which records its checksum): weights altered after training."""
    metrics = read_json(metrics_path, "metrics")
    if "model_sha256" in metrics and metrics["model_sha256"] != file_digest(model_path):
        raise DataError(
            f"{model_path} is not the model {metrics_path} was written with (checksums differ): it was "
            "altered or replaced after training"
        )


def advice(err: Exception, model_path: str | Path, checkpoint_dir: str | Path) -> str:
    """A refused model's error, with what to do when a kept copy exists: forcing the training
    job alone would restore that copy (it is checked, but the copy may be the very one that
    was placed there), so it must be moved away first."""
    kept = folder(checkpoint_dir)
    text = str(err).removesuffix(regenerate(model_path)).rstrip("; ")
    if not kept.exists():
        return f"{text}; {regenerate(model_path)}"
    return (
        f"{text}. The training job keeps a copy of its model in {kept}, which forcing the job would restore: "
        f"move it away first (mv {kept} {kept.parent}/set-aside-by-hand), then {regenerate(model_path)}"
    )
