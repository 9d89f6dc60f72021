"""The file layer: every artifact of the workflow is written and read here.

* Writes are atomic (:func:`atomic_write`): through a temporary file in the same folder,
  renamed into place, so a crash or a kill leaves the old file or the new one, never half
  of one. The temporary file gets a random name and is created exclusively (never through
  a link another user planted), and the writer writes through its open descriptor, so no
  write can be redirected into someone else's file (:func:`atomic_write_path` does the same
  with a private folder for writers that need a file name: Keras).
* Readers name the file and say how to make it again (:func:`regenerate`) when it is
  missing, truncated or foreign; they raise :class:`DataError`.
* Every artifact records what it is (its **identity**: task, architecture, seed, the
  checksum of its dataset, the fingerprint of the model's settings...), and its consumer
  checks it against what it expects (:func:`check_identity`), so a file copied from
  another run is refused by name.

The artifacts, from data to tables (docs/science.md §6 lays them out on disk):

===================  ==========================================  =========================
artifact             written by                                  read with
===================  ==========================================  =========================
dataset (npz+JSON)   :func:`save_dataset`                        :func:`load_dataset`,
                                                                 :func:`load_vocab`
model.keras          ``attend.model_files.save_model``           ``attend.model_files.load_model``
metrics.json         :func:`write_text`                          :func:`read_json`
train_log.csv        the training loop (Keras's CSVLogger)       :func:`read_model_csv`
probe.npz            :func:`save_npz` (``attend.probe.record``)  ``attend.probe.load``
analysis.npz, CSVs   :func:`save_analysis`                       :func:`load_analysis`,
                                                                 :func:`read_model_csv`
tables               :func:`write_table`                         :func:`read_table`
===================  ==========================================  =========================

numpy and pandas only: the figures and ``attend analyse`` import this without Keras.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from .tokens import EOS, SPECIALS

SPLITS = ("train", "valid", "test")  # a dataset's splits: {split}_src, {split}_tgt[, {split}_align]


class DataError(ValueError):
    """A file of the workflow is missing, truncated or not what it claims to be."""


def regenerate(path) -> str:
    """How to make one file again under Snakemake 9 (a rerun alone does nothing while the
    file exists and looks up to date): force the job that writes it."""
    return (
        f"regenerate it with `snakemake --cores all --force {path}` (plus the --configfile options of your "
        "run); the next run of the workflow then redoes what depends on it"
    )


# ---------------------------------------------------------------------------- identity


def check_identity(found: dict, expected: dict, path, what: str) -> None:
    """Refuse a file whose recorded identity (task, architecture, seed, the fingerprint of
    its inputs...) differs from what its consumer expects, naming both."""
    wrong = {k: (found.get(k), v) for k, v in expected.items() if found.get(k) != v}
    if wrong:
        detail = ", ".join(f"{k} is {got!r}, expected {want!r}" for k, (got, want) in wrong.items())
        raise DataError(
            f"{path}: this {what} belongs elsewhere ({detail}): it was copied or moved here from "
            f"another run; {regenerate(path)}"
        )


def recorded_identity(arrays: dict) -> dict:
    """The identity an npz artifact (a probe, an analysis) records; {} if none."""
    return json.loads(str(arrays["identity"])) if "identity" in arrays else {}


def file_digest(path: str | Path) -> str:
    """sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# ---------------------------------------------------------------------------- writing


# The process's umask, read once: a file written here gets the mode a plain open() would
# have given it (temporary files are created 0600 and opened up just before their rename).
_UMASK = os.umask(0o022)
os.umask(_UMASK)


def atomic_write(path: str | Path, write: Callable[[BinaryIO], object]) -> None:
    """Call ``write(fh)`` on a binary file open on a new temporary file in ``path``'s
    folder, then rename it into place, so a crash leaves nothing half-written.

    The temporary file has a random name and is created exclusively (``mkstemp``:
    ``O_CREAT | O_EXCL``, so never through a link planted under its name), and ``write``
    writes through its descriptor, never reopening it by name: another user who can write
    in the folder cannot redirect the write into a file of yours. The rename replaces a
    link at ``path`` itself, not what it points to."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            os.fchmod(fh.fileno(), 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_path(path: str | Path, write: Callable[[Path], object]) -> None:
    """:func:`atomic_write` for a writer that needs a file name (Keras's ``save``,
    ``save_weights``): ``write(tmp)`` writes a file named like ``path`` inside a private
    folder (mode 0700, random name, created exclusively) beside it, then it is renamed into
    place and the folder removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
    try:
        tmp = folder / path.name
        write(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class UnsafeFolder(DataError):
    """An output folder that another user could use to replace or redirect what is written."""


def output_folder(path: str | Path, names: list[str] = ()) -> Path:
    """``path`` made ready to write into, before any work is done: created with mode 0700
    when new; refused (naming why) when it is not a folder, belongs to another user or can
    be written by group or others (they could swap the outputs), holds a folder under one
    of the ``names`` to be written, or cannot be written (a test file is created and
    removed). Every OSError becomes a :class:`DataError` naming the folder."""
    path = Path(path)
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.mkdir(mode=0o700)
        if not path.is_dir():
            raise DataError(f"{path}: --out must be a folder, and this is a file; name a folder")
        info = path.stat()
        if info.st_uid != os.getuid():
            raise UnsafeFolder(
                f"{path}: the output folder belongs to uid {info.st_uid}, not to you (uid {os.getuid()}): its owner "
                "could replace what is written there; write into a folder of your own"
            )
        if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise UnsafeFolder(
                f"{path}: the output folder can be written by group or others (mode {stat.S_IMODE(info.st_mode):04o}): "
                f"they could plant links or replace the outputs; `chmod go-w {path}` or write into a folder of your own"
            )
        for name in names:
            if (path / name).is_dir() and not (path / name).is_symlink():
                raise DataError(f"{path / name}: a folder stands where the output {name} goes; move it away")
        fd, probe_file = tempfile.mkstemp(dir=path, prefix=".write-test.")
        os.close(fd)
        os.unlink(probe_file)
    except DataError:
        raise
    except OSError as err:
        raise DataError(f"{path}: the output folder cannot be written ({err.strerror or err}); name another") from None
    return path


def write_bytes(path: str | Path, data: bytes) -> None:
    """A file of these bytes, written atomically."""
    atomic_write(path, lambda fh: fh.write(data))


def write_text(path: str | Path, text: str) -> None:
    """A text file (a JSON record, a markdown summary), UTF-8, written atomically."""
    write_bytes(path, text.encode("utf-8"))


def save_npz(path: str | Path, arrays: dict[str, np.ndarray]) -> None:
    """Write arrays (no object arrays, so no pickle) atomically; :func:`load_npz` reads them."""
    atomic_write(path, lambda fh: np.savez(fh, **{k: np.asarray(v) for k, v in arrays.items()}))


def write_table(path: str | Path, df: pd.DataFrame) -> None:
    """A CSV table without its index, atomically."""
    write_bytes(path, df.to_csv(index=False).encode("utf-8"))


# ---------------------------------------------------------------------------- reading


def load_npz(path: str | Path, required: dict[str, int], what: str) -> dict[str, np.ndarray]:
    """Load an npz without pickle, checking each required key's number of dimensions."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except FileNotFoundError:
        raise DataError(f"{path}: {what} file is missing") from None
    except Exception as err:  # zipfile.BadZipFile, ValueError for pickled objects, EOFError...
        raise DataError(
            f"{path}: not a readable {what} ({type(err).__name__}: {err}); "
            f"it is truncated or foreign: {regenerate(path)}"
        ) from None
    for key, ndim in required.items():
        if key not in arrays:
            raise DataError(f"{path}: {what} lacks the array {key!r} (has {sorted(arrays)})")
        if arrays[key].ndim != ndim:
            raise DataError(f"{path}: {what} array {key!r} has shape {arrays[key].shape}, expected {ndim} dimensions")
    return arrays


def npz_shapes(path: str | Path, what: str) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Each member's shape and dtype, read from its .npy header alone (the data are not
    decompressed): what a reader checks before it allocates anything."""
    path = Path(path)
    shapes = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if not info.filename.endswith(".npy"):
                    continue
                with archive.open(info) as fh:
                    version = np.lib.format.read_magic(fh)
                    read = (
                        np.lib.format.read_array_header_1_0
                        if version == (1, 0)
                        else np.lib.format.read_array_header_2_0
                    )
                    shape, _, dtype = read(fh)
                shapes[info.filename.removesuffix(".npy")] = (tuple(shape), dtype)
    except FileNotFoundError:
        raise DataError(f"{path}: {what} file is missing") from None
    except Exception as err:  # zipfile.BadZipFile, a header that is not numpy's...
        raise DataError(
            f"{path}: not a readable {what} ({type(err).__name__}: {err}); "
            f"it is truncated or foreign: {regenerate(path)}"
        ) from None
    return shapes


def download(url: str, dest: Path, what: str, instead: str) -> None:
    """Fetch ``url`` into ``dest`` (a scratch file the caller checks before using), or raise
    :class:`DataError` naming ``what`` and what to do ``instead`` (this project's machines
    may have no internet access)."""
    import urllib.request

    try:
        request = urllib.request.Request(url, headers={"User-Agent": "attend (replication pipeline)"})
        with urllib.request.urlopen(request, timeout=60) as response, open(dest, "wb") as fh:
            shutil.copyfileobj(response, fh)
    except Exception as err:  # URLError, timeouts, HTTP errors, a dropped connection...
        raise DataError(
            f"could not download {what} from {url} ({type(err).__name__}: {err}); this machine may have no "
            f"internet access. Instead, {instead}"
        ) from None


def available_memory() -> int:
    """Bytes of memory this machine can give a process now (MemAvailable), or its total."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def gib(n_bytes: float) -> str:
    return f"{n_bytes / 2**30:.1f} GiB"


def read_json(path: str | Path, what: str, required=()) -> dict:
    """A JSON object of the workflow with its ``required`` keys; any problem names the file
    and how to make it again."""
    path = Path(path)
    try:
        record = json.loads(path.read_text())
    except FileNotFoundError:
        raise DataError(f"{path}: the {what} file is missing; {regenerate(path)}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: not a valid {what} JSON ({err}); {regenerate(path)}") from None
    missing = [k for k in required if not isinstance(record, dict) or k not in record]
    if missing:
        raise DataError(f"{path}: the {what} JSON lacks {missing}; {regenerate(path)}")
    return record


def read_table(path) -> pd.DataFrame:
    """A CSV of this project: only empty cells are missing, so words such as "null" or
    "nan" (translation vocabularies have them) stay words."""
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


# Per-model files that must hold at least one row, each with every column filled: without
# one, the model would silently vanish from its table and figure, and a blank cell would
# silently blank a curve. The columns each must have (the training loop logs these).
NON_EMPTY = {"train_log.csv": ["epoch", "loss", "step", "val_loss", "val_seq_acc", "val_token_acc"]}


def read_model_csv(path) -> pd.DataFrame:
    """A per-model CSV (a measurement table, a training log). A table that does not apply to
    a model is a header without rows, while an empty or unreadable file is an error naming
    the file."""
    path = Path(path)
    try:
        df = read_table(path)
    except FileNotFoundError:
        raise DataError(f"{path}: the file is missing; {regenerate(path)}") from None
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: not a readable table ({type(err).__name__}: {err}); {regenerate(path)}") from None
    need = NON_EMPTY.get(path.name)
    if need and (df.empty or not set(need) <= set(df.columns)):
        raise DataError(
            f"{path}: the training log is empty or lacks columns (needs rows with {need}, has "
            f"{list(df.columns)}); {regenerate(path)}"
        )
    if need and df.isna().any().any():
        rows, cols = np.nonzero(df.isna().to_numpy())
        raise DataError(
            f"{path}: the training log is cut short or damaged: row {rows[0] + 1} has no value of "
            f"{df.columns[cols[0]]!r}; {regenerate(path)}"
        )
    return df


# ---------------------------------------------------------------------------- datasets


def save_dataset(npz_path: str | Path, json_path: str | Path, arrays: dict[str, np.ndarray], record: dict) -> None:
    """The npz, then the JSON, which records the npz's checksum: the pair belongs together."""
    save_npz(npz_path, arrays)
    record = {**record, "npz_sha256": file_digest(npz_path)}
    write_text(json_path, json.dumps(record, indent=1, sort_keys=True, ensure_ascii=False) + "\n")


def load_vocab(json_path: str | Path) -> dict:
    """A dataset's JSON record: vocabularies (id -> token), dictionary, generating config."""
    path = Path(json_path)
    record = read_json(path, "vocabulary", ("src_vocab", "tgt_vocab", "dictionary"))
    for key in ("src_vocab", "tgt_vocab"):
        if record[key][: len(SPECIALS)] != SPECIALS:
            raise DataError(f"{path}: {key} must start with {SPECIALS}, found {record[key][:3]}")
    return record


def load_dataset(
    npz_path: str | Path, json_path: str | Path, expect: dict | None = None
) -> tuple[dict[str, np.ndarray], dict]:
    """Load and validate a dataset written by :func:`save_dataset`; ``expect`` (e.g. the
    task and seed of the job reading it) must match what the JSON records, and the npz
    must be the one the JSON was written with."""
    required = {f"{s}_{part}": 2 for s in SPLITS for part in ("src", "tgt")}
    arrays = load_npz(npz_path, required, "dataset")
    record = load_vocab(json_path)
    if expect:
        check_identity(record, expect, json_path, "vocabulary")
    if "npz_sha256" in record and record["npz_sha256"] != file_digest(npz_path):
        raise DataError(
            f"{npz_path} is not the dataset {json_path} was written with (checksums differ): "
            f"one of the two was copied from another run; {regenerate(npz_path)}"
        )
    for s in SPLITS:
        src, tgt = arrays[f"{s}_src"], arrays[f"{s}_tgt"]
        if len(src) != len(tgt) or len(src) == 0:
            raise DataError(f"{npz_path}: split {s!r} has {len(src)} sources and {len(tgt)} targets")
        for part, ids, vocab in (("src", src, record["src_vocab"]), ("tgt", tgt, record["tgt_vocab"])):
            if not np.issubdtype(ids.dtype, np.integer) or ids.min() < 0 or ids.max() >= len(vocab):
                raise DataError(
                    f"{npz_path}: {s}_{part} holds ids outside the vocabulary of {len(vocab)} tokens "
                    f"in {json_path}; the two files do not belong together"
                )
            if not (ids == EOS).any(axis=1).all():
                raise DataError(f"{npz_path}: some {s}_{part} rows have no end-of-sequence token")
    return arrays, record


# ---------------------------------------------------------------------------- analyses


TABLE_DIGESTS = "table_sha256"  # the analysis.npz member: JSON {table name: sha256 of its CSV's bytes}


def save_analysis(
    tables: dict[str, pd.DataFrame], arrays: dict[str, np.ndarray], arrays_path, table_paths: dict[str, str]
) -> None:
    """One model's measurements: each table to its CSV, then the arrays the figures draw
    (npz, no pickle) with the checksum of every CSV, so that a CSV copied in from another
    model is found out by the npz beside it; all atomically."""
    missing = set(table_paths) - set(tables)
    if missing:
        raise KeyError(f"no measurement produces the tables {sorted(missing)}")
    digests = {}
    for name, path in table_paths.items():
        data = tables[name].to_csv(index=False).encode()
        write_bytes(path, data)
        digests[name] = hashlib.sha256(data).hexdigest()
    save_npz(arrays_path, {**arrays, TABLE_DIGESTS: np.array(json.dumps(digests, sort_keys=True))})


def load_analysis(path, expect: dict | None = None) -> dict[str, np.ndarray]:
    """An ``analysis.npz`` as a dict (no pickle), for the figures; ``expect`` (task, arch,
    seed...) must match the identity it records."""
    arrays = load_npz(path, {"arch": 0, "enc_mu": 2, "dec_mu": 2, "src_vocab": 1, "tgt_vocab": 1}, "analysis")
    if expect:
        check_identity(recorded_identity(arrays), expect, path, "analysis")
    return arrays


def _npz_members(path: Path, names: tuple[str, ...], what: str) -> dict:
    """Some members of an npz only (numpy reads members lazily), naming the file if it is
    missing or unreadable."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in names if k in npz.files}
    except FileNotFoundError:
        raise DataError(f"{path}: the {what} file is missing; {regenerate(path)}") from None
    except Exception as err:
        raise DataError(
            f"{path}: not a readable {what} ({type(err).__name__}: {err}); "
            f"it is truncated or foreign: {regenerate(path)}"
        ) from None


def _check_digest(path: Path, recorded: str | None, record_path: Path, what: str) -> None:
    if recorded != file_digest(path):
        raise DataError(
            f"{path} is not the file {record_path} was written with (its checksum is not the one "
            f"{record_path.name} records): it was copied or edited after the {what} job wrote it; "
            f"{regenerate(record_path)}"
        )


def check_model_file(path, expect: dict) -> None:
    """Check that a per-model file a table or figure reads belongs to the model ``expect``
    names (task, arch, seed, variant, settings digest...):

    * ``analysis.npz``: the identity it records;
    * a measurement CSV: the identity of the ``analysis.npz`` beside it, which records the
      CSV's checksum;
    * ``metrics.json``: the identity it records;
    * ``train_log.csv``: the identity of the ``metrics.json`` beside it, which records the
      log's checksum.

    A file copied from another task, architecture, seed or variant, or a CSV copied alone,
    raises :class:`DataError` naming it."""
    path = Path(path)
    if path.name == "metrics.json":
        check_identity(read_json(path, "metrics"), expect, path, "metrics file")
    elif path.name == "train_log.csv":
        metrics_path = path.with_name("metrics.json")
        metrics = read_json(metrics_path, "metrics")
        check_identity(metrics, expect, metrics_path, "metrics file")
        _check_digest(path, metrics.get("train_log_sha256"), metrics_path, "training")
    elif path.suffix == ".npz":
        found = _npz_members(path, ("identity",), "analysis")
        check_identity(recorded_identity(found), expect, path, "analysis")
    else:
        arrays_path = path.with_name("analysis.npz")
        found = _npz_members(arrays_path, ("identity", TABLE_DIGESTS), "analysis")
        check_identity(recorded_identity(found), expect, arrays_path, "analysis")
        digests = json.loads(str(found[TABLE_DIGESTS])) if TABLE_DIGESTS in found else {}
        _check_digest(path, digests.get(path.stem), arrays_path, "measure")
