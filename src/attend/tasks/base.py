"""What every task produces, and how its words become integer arrays.

A task generator returns a :class:`TaskData` of plain word sequences. :func:`encode`
turns it into integer arrays with the token conventions of ``attend.tokens`` (0 padding,
1 ``</s>``, 2 ``<s>``, then the words; every sequence ends with ``</s>``; the decoder's
input is the target shifted right behind ``<s>``, :func:`attend.tokens.decoder_inputs`).

On disk a dataset is one ``.npz`` (``{split}_src``, ``{split}_tgt`` and, for tasks that
know their alignment, ``{split}_align``) plus one JSON with the vocabularies, the
dictionary and the generating config: ``attend.artifacts.save_dataset`` writes the pair
and ``load_dataset`` reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..artifacts import SPLITS, DataError
from ..tokens import EOS, PAD, SPECIALS


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
