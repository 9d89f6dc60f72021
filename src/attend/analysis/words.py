"""Per-word and per-position measurements: word variance (docs/science.md §4.6), teacher-forced
accuracy by input length, and the eSCAN offsets and per-word relative attention (§4.7)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..scoring import row_scores
from .decompose import Decomposition, group_sums

OFFSETS = np.arange(-3, 4)


def word_variance(side: str, parts: Decomposition, vocab) -> pd.DataFrame:
    """Per word: the total variance (trace of the covariance) of the states at that word,
    before and after subtracting μ_t."""
    h = parts.flat.astype(np.float64)
    r = h - parts.mu[parts.rows[1]]
    tokens = parts.flat_tokens
    rows = {}
    for name, x in (("variance", h), ("variance_without_mu", r)):
        sums, counts = group_sums(x, tokens, len(vocab))
        sq, _ = group_sums((x**2).sum(-1, keepdims=True), tokens, len(vocab))
        n = np.maximum(counts, 1)
        rows[name] = np.maximum(sq[:, 0] / n - ((sums / n[:, None]) ** 2).sum(-1), 0.0)  # no -1e-15
        rows["count"] = counts
    keep = rows["count"] > 0
    return pd.DataFrame(
        {
            "side": side,
            "word": np.asarray(vocab)[keep],
            "count": rows["count"][keep],
            "variance": rows["variance"][keep],
            "variance_without_mu": rows["variance_without_mu"][keep],
        }
    )


def accuracy_by_length(targets, predictions, enc_len) -> pd.DataFrame:
    """Teacher-forced token and sequence accuracy of the probe's predictions, by input length."""
    right, valid, whole = row_scores(predictions, targets)
    df = pd.DataFrame({"length": enc_len, "seq": whole, "tok_right": right, "tok": valid})
    g = df.groupby("length")
    return pd.DataFrame(
        {"n": g.size(), "token_acc": g["tok_right"].sum() / g["tok"].sum(), "seq_acc": g["seq"].mean()}
    ).reset_index()


def offsets(attention, align, dec_mask, mu_scores, enc_occupied) -> pd.DataFrame:
    """Per decoder step t: the mean offset (source index − t) of the alignment the data
    demands, of the attended position, and the position where μ^D_t·μ^E_s peaks."""
    t = np.arange(attention.shape[1])
    known = dec_mask & (align >= 0)
    n = known.sum(0)
    denom = np.maximum(n, 1)
    data = np.where(known, align - t, 0).sum(0) / denom
    attended = np.where(known, attention.argmax(-1) - t, 0).sum(0) / denom
    temporal = np.where(enc_occupied[None], mu_scores, -np.inf).argmax(-1) - t
    df = pd.DataFrame(
        {"step": t, "n": n, "data_offset": data, "attended_offset": attended, "temporal_offset": temporal}
    )
    return df[df["n"] > 0]


def word_attention(attention, enc_tokens, dec_mask, src_vocab) -> pd.DataFrame:
    """Per input word w: the mean attention at offsets −3…+3 from the attended position,
    over every decoder step that attends (argmax) a position holding w."""
    _n_seq, _, width = attention.shape
    s_star = attention.argmax(-1)[dec_mask]  # (M,)
    seq = np.nonzero(dec_mask)[0]
    rows = attention[dec_mask]  # (M, S)
    cols = s_star[:, None] + OFFSETS[None]  # (M, 7)
    inside = (cols >= 0) & (cols < width)
    around = np.where(inside, np.take_along_axis(rows, np.clip(cols, 0, width - 1), -1), 0.0)
    words = enc_tokens[seq, s_star]
    sums, counts = group_sums(around, words, len(src_vocab))
    keep = counts > 0
    mean = sums[keep] / counts[keep, None]
    vocab = np.asarray(src_vocab)[keep]
    return pd.DataFrame(
        {
            "word": np.repeat(vocab, len(OFFSETS)),
            "offset": np.tile(OFFSETS, len(vocab)),
            "attention": mean.ravel(),
            "n": np.repeat(counts[keep], len(OFFSETS)),
        }
    )
