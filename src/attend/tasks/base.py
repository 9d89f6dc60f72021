"""What every task produces, and how it becomes arrays on disk.

A task generator returns a :class:`TaskData` of plain word sequences. :func:`encode`
turns it into integer arrays with the project's token conventions:

* id 0 is padding, 1 is end-of-sequence (``</s>``), 2 is start-of-sequence (``<s>``);
  words follow, in vocabulary order.
* every source and target sequence ends with ``</s>``; the source's end-of-sequence
  position is its last valid position and may be attended.
* the decoder's input at step t is the target at t - 1, with ``<s>`` at t = 0
  (:func:`decoder_inputs`).

On disk a dataset is one ``.npz`` (``{split}_src``, ``{split}_tgt`` and, for tasks that
know their alignment, ``{split}_align``; splits ``train``, ``valid``, ``test``) plus one
JSON with the vocabularies, the dictionary and the generating config.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

PAD, EOS, SOS = 0, 1, 2
SPECIALS = ["<pad>", "</s>", "<s>"]
UNK = "<unk>"  # the out-of-vocabulary word of tasks that have one (translation)
SPLITS = ("train", "valid", "test")


class DataError(ValueError):
    """A file of the workflow is missing, truncated or not what it claims to be."""


def regenerate(path) -> str:
    """How to make one file again under Snakemake 9 (a rerun alone does nothing while the
    file exists and looks up to date): force the job that writes it."""
    return (f"regenerate it with `snakemake --cores all --force {path}` (plus the --configfile options of your "
            "run); the next run of the workflow then redoes what depends on it")


def check_identity(found: dict, expected: dict, path, what: str) -> None:
    """Refuse a file whose recorded identity (task, architecture, seed, the fingerprint of
    its inputs...) differs from what its consumer expects, naming both."""
    wrong = {k: (found.get(k), v) for k, v in expected.items() if found.get(k) != v}
    if wrong:
        detail = ", ".join(f"{k} is {got!r}, expected {want!r}" for k, (got, want) in wrong.items())
        raise DataError(f"{path}: this {what} belongs elsewhere ({detail}): it was copied or moved here from "
                        f"another run; {regenerate(path)}")


@dataclass
class Split:
    src: list[list[str]]
    tgt: list[list[str]]
    # For each target word, the index of the source word that produced it (-1: none).
    align: list[list[int]] | None = None


@dataclass
class TaskData:
    src_words: list[str]  # vocabulary words, without the special tokens
    tgt_words: list[str]
    splits: dict[str, Split]
    dictionary: dict[str, str] = field(default_factory=dict)  # source word -> target word
    meta: dict = field(default_factory=dict)  # anything worth recording (counts, checksums)
    # Text kept beside the arrays, one string per sequence (translation's BLEU references).
    texts: dict[str, list[str]] = field(default_factory=dict)


def vocabulary(words: list[str]) -> list[str]:
    """The full id -> token list: specials first, then the words in the given order."""
    clash = set(words) & set(SPECIALS)
    if clash:
        raise DataError(f"vocabulary words collide with special tokens: {sorted(clash)}")
    return SPECIALS + list(words)


def encode_sequences(seqs: list[list[str]], vocab: list[str], unk: str | None = None) -> np.ndarray:
    """Word sequences -> int32 array (N, max_len + 1), each row ending in </s>, then padding."""
    index = {w: i for i, w in enumerate(vocab)}
    unk_id = index[unk] if unk is not None else None
    width = max(len(s) for s in seqs) + 1
    out = np.full((len(seqs), width), PAD, dtype=np.int32)
    for row, seq in enumerate(seqs):
        try:
            ids = [index[w] for w in seq] if unk_id is None else [index.get(w, unk_id) for w in seq]
        except KeyError as err:
            raise DataError(f"sequence {row} has word {err.args[0]!r} that is not in the vocabulary") from None
        out[row, : len(ids)] = ids
        out[row, len(ids)] = EOS
    return out


def encode_alignment(align: list[list[int]], width: int) -> np.ndarray:
    out = np.full((len(align), width), -1, dtype=np.int32)
    for row, a in enumerate(align):
        out[row, : len(a)] = a
    return out


def encode(task: TaskData, unk: str | None = None) -> tuple[dict[str, np.ndarray], dict]:
    """TaskData -> (arrays for the npz, vocabulary record for the JSON)."""
    src_vocab, tgt_vocab = vocabulary(task.src_words), vocabulary(task.tgt_words)
    arrays: dict[str, np.ndarray] = {}
    for name in SPLITS:
        split = task.splits[name]
        arrays[f"{name}_src"] = encode_sequences(split.src, src_vocab, unk)
        arrays[f"{name}_tgt"] = encode_sequences(split.tgt, tgt_vocab, unk)
        if split.align is not None:
            arrays[f"{name}_align"] = encode_alignment(split.align, arrays[f"{name}_tgt"].shape[1])
    for key, strings in task.texts.items():  # fixed-width unicode: stored without pickle
        arrays[key] = np.array(strings, dtype=str)
    record = {
        "src_vocab": src_vocab,
        "tgt_vocab": tgt_vocab,
        "dictionary": task.dictionary,
        "meta": task.meta,
    }
    return arrays, record


def decoder_inputs(tgt: np.ndarray) -> np.ndarray:
    """Teacher-forcing inputs: <s> then the target shifted right (padding stays padding)."""
    dec = np.empty_like(tgt)
    dec[:, 0] = SOS
    dec[:, 1:] = tgt[:, :-1]
    dec[tgt == PAD] = PAD
    return dec


def lengths(ids: np.ndarray) -> np.ndarray:
    """Valid length of each row, counting its </s>."""
    return (ids != PAD).sum(axis=1).astype(np.int32)


# ---------------------------------------------------------------------------- I/O


def _atomic_write(path: Path, write) -> None:
    """Write through a temporary file in the same folder, so a crash leaves nothing half-written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def save_npz(path: str | Path, arrays: dict[str, np.ndarray]) -> None:
    """Write arrays (no object arrays, so no pickle) atomically; :func:`load_npz` reads them."""
    def write(tmp):
        with open(tmp, "wb") as fh:
            np.savez(fh, **{k: np.asarray(v) for k, v in arrays.items()})

    _atomic_write(Path(path), write)


def save_dataset(npz_path: str | Path, json_path: str | Path, arrays: dict[str, np.ndarray], record: dict) -> None:
    """The npz, then the JSON, which records the npz's checksum: the pair belongs together."""
    from ..provenance import file_digest

    save_npz(npz_path, arrays)
    record = {**record, "npz_sha256": file_digest(npz_path)}

    def write_json(tmp):
        Path(tmp).write_text(json.dumps(record, indent=1, sort_keys=True, ensure_ascii=False) + "\n")

    _atomic_write(Path(json_path), write_json)


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


def load_vocab(json_path: str | Path) -> dict:
    path = Path(json_path)
    record = read_json(path, "vocabulary", ("src_vocab", "tgt_vocab", "dictionary"))
    for key in ("src_vocab", "tgt_vocab"):
        if record[key][: len(SPECIALS)] != SPECIALS:
            raise DataError(f"{path}: {key} must start with {SPECIALS}, found {record[key][:3]}")
    return record


def load_npz(path: str | Path, required: dict[str, int], what: str) -> dict[str, np.ndarray]:
    """Load an npz without pickle, checking each required key's number of dimensions."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except FileNotFoundError:
        raise DataError(f"{path}: {what} file is missing") from None
    except Exception as err:  # zipfile.BadZipFile, ValueError for pickled objects, EOFError...
        raise DataError(f"{path}: not a readable {what} ({type(err).__name__}: {err}); "
                        f"it is truncated or foreign: {regenerate(path)}") from None
    for key, ndim in required.items():
        if key not in arrays:
            raise DataError(f"{path}: {what} lacks the array {key!r} (has {sorted(arrays)})")
        if arrays[key].ndim != ndim:
            raise DataError(f"{path}: {what} array {key!r} has shape {arrays[key].shape}, expected {ndim} dimensions")
    return arrays


def load_dataset(npz_path: str | Path, json_path: str | Path, expect: dict | None = None
                 ) -> tuple[dict[str, np.ndarray], dict]:
    """Load and validate a dataset written by :func:`save_dataset`; ``expect`` (e.g. the
    task and seed of the job reading it) must match what the JSON records, and the npz
    must be the one the JSON was written with."""
    from ..provenance import file_digest

    required = {f"{s}_{part}": 2 for s in SPLITS for part in ("src", "tgt")}
    arrays = load_npz(npz_path, required, "dataset")
    record = load_vocab(json_path)
    if expect:
        check_identity(record, expect, json_path, "vocabulary")
    if "npz_sha256" in record and record["npz_sha256"] != file_digest(npz_path):
        raise DataError(f"{npz_path} is not the dataset {json_path} was written with (checksums differ): "
                        f"one of the two was copied from another run; {regenerate(npz_path)}")
    for s in SPLITS:
        src, tgt = arrays[f"{s}_src"], arrays[f"{s}_tgt"]
        if len(src) != len(tgt) or len(src) == 0:
            raise DataError(f"{npz_path}: split {s!r} has {len(src)} sources and {len(tgt)} targets")
        for part, ids, vocab in (("src", src, record["src_vocab"]), ("tgt", tgt, record["tgt_vocab"])):
            if not np.issubdtype(ids.dtype, np.integer) or ids.min() < 0 or ids.max() >= len(vocab):
                raise DataError(f"{npz_path}: {s}_{part} holds ids outside the vocabulary of {len(vocab)} tokens "
                                f"in {json_path}; the two files do not belong together")
            if not (ids == EOS).any(axis=1).all():
                raise DataError(f"{npz_path}: some {s}_{part} rows have no end-of-sequence token")
    return arrays, record
