"""Readout alignment and the task's dictionary (docs/science.md §4.5, findings F2 and F3).

Each encoder input component χ^E(w), carried through the value matrix (V χ^E(w)) and the
context part of the readout W_c, should point at w's translation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..tokens import SPECIALS


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(-1) / np.maximum(np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1), 1e-12)


# The most logits held at once, 2^24 (128 MiB): words are read out in chunks of rows, so a
# tokenizer's vocabulary of tens of thousands on both sides never needs a W × V_tgt array.
MAX_LOGITS = 1 << 24


def read_out(values: np.ndarray, w_c: np.ndarray, never: list[int]) -> np.ndarray:
    """(W,) the argmax over target words of values @ W_c, leaving out the ``never`` ids,
    in chunks of rows of at most :data:`MAX_LOGITS` logits."""
    rows = max(1, MAX_LOGITS // max(w_c.shape[1], 1))
    predicted = []
    for start in range(0, len(values), rows):
        logits = values[start : start + rows] @ w_c  # (chunk, V_tgt)
        logits[:, never] = -np.inf
        predicted.append(logits.argmax(-1))
    return np.concatenate(predicted) if predicted else np.zeros(0, dtype=np.int64)


def dictionary_table(chi_enc, word_count, w_v, w_c, src_vocab, tgt_vocab, dictionary: dict) -> pd.DataFrame:
    """One row per source word seen in the data (specials excluded): the target word that argmax W_c V χ^E(w)
    reads out, whether it is w's translation (where the task has a dictionary) and the
    cosine between V χ^E(w) and the readout direction of its translation (else of the
    predicted word)."""
    tgt_index = {w: i for i, w in enumerate(tgt_vocab)}
    # Words only: </s> always sits last, so its χ is entangled with the final position.
    words = [i for i in range(len(SPECIALS), len(src_vocab)) if word_count[i] > 0]
    values = chi_enc[words] @ w_v  # (W, dv)
    predicted = read_out(values, w_c, [tgt_index["<pad>"], tgt_index["<s>"]])
    rows = []
    for row, (i, j) in enumerate(zip(words, predicted)):
        word = str(src_vocab[i])
        translation = dictionary.get(word)
        target = tgt_index.get(translation, j) if translation is not None else j
        rows.append(
            {
                "word": word,
                "count": int(word_count[i]),
                "translation": translation,
                "predicted": str(tgt_vocab[j]),
                "correct": float(j == tgt_index[translation]) if translation in tgt_index else np.nan,
                "cosine": float(cosine(values[row], w_c[:, target])),
            }
        )
    return pd.DataFrame(rows)
