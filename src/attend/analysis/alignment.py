"""Attention against human word alignments (docs/science.md §4.9): the alignment error rate
of the links read from a model's attention, from its temporal terms alone, from everything
but its temporal terms, from the mean attention, and from position alone. numpy and pandas
only.

The input is one teacher-forced probe of the gold pairs carrying their links
(``attend.probe``, format 2: ``gold_links``, ``gold_sure``; ``attend.gold_alignment`` makes
the sequences). Its μ, χ, Δ come from that probe alone (``analysis.decompose``), each unit's
μ·μ score from ``analysis.attention``.

Index conventions: a sentence has S′ source and T′ target words, its ``</s>`` at source
position S′ and target position T′ (``enc_len`` = S′ + 1, ``dec_len`` = T′ + 1). A *linked*
array (N, T) holds, for target word j of each sequence, the source word it is linked to,
or :data:`NO_LINK`. The gold is a grid (N, T, S) over (target word, source word): 2 sure,
1 possible only, 0 no link.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..artifacts import DataError
from . import attention as att
from .decompose import Decomposition, decompose

# The readings of where each target word looks (docs/science.md §4.9), in table order; all
# but the diagonal are weights of a unit, a layer or the model.
READINGS = ("attention", "temporal_only", "without_mu_mu", "mean_attention", "diagonal")
WEIGHTS = READINGS[:-1]
# Which decoder step stands for target word j: j + offset. "predicts": the step whose output
# is word j (its input is word j - 1); "reads": the step whose input is word j.
CONVENTIONS = {"predicts": 0, "reads": 1}
LENGTH_BINS = ("all", "inside", "beyond")  # inside: both sides at most the trained length
WHOLE_MODEL = -1  # layer and head of the model as a whole, as in analysis.measure
NO_LINK = -1
SURE, POSSIBLE = 2, 1  # gold grid values; a sure link is possible too
TABLE_COLUMNS = {
    "gold_alignment": [
        "layer",
        "head",
        "convention",
        "length_bin",
        "reading",
        "aer",
        "precision",
        "recall",
        "sentences",
        "predicted",
        "sure",
        "possible",
        "predicted_sure",
        "predicted_possible",
    ],
}


# ---------------------------------------------------------------------------- links and scores


def gold_grid(links: np.ndarray, sure: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """(N, T, S) int8 over (sequence, target word, source word): :data:`SURE`, :data:`POSSIBLE`
    (possible only) or 0, from ``links`` (K, 3) (sequence, target word, source word) and
    ``sure`` (K,) 0/1."""
    grid = np.zeros(shape, dtype=np.int8)
    grid[tuple(links.T)] = np.where(np.asarray(sure) > 0, SURE, POSSIBLE)
    return grid


def linked_words(weights: np.ndarray, enc_len: np.ndarray, dec_len: np.ndarray, offset: int) -> np.ndarray:
    """(N, T): target word j linked to the valid source position of the largest weight in
    row j + ``offset`` of ``weights`` (N, T, S) (the first on ties); :data:`NO_LINK` where
    that position is the source ``</s>`` or past the sentence's T′ = dec_len − 1 words."""
    _n, width, _s = weights.shape
    words = np.arange(width)
    steps = np.minimum(words + offset, width - 1)  # the clip only touches words past T′
    enc_mask = np.arange(weights.shape[2])[None, :] < enc_len[:, None]
    best = np.where(enc_mask[:, None, :], weights[:, steps], -np.inf).argmax(-1)
    keep = (words[None, :] < (dec_len - 1)[:, None]) & (best < (enc_len - 1)[:, None])
    return np.where(keep, best, NO_LINK)


def diagonal_words(enc_len: np.ndarray, dec_len: np.ndarray, width: int) -> np.ndarray:
    """(N, width): target word j of a T′-word sentence linked to source word
    round(j (S′ − 1) / (T′ − 1)) of its S′-word source, halves rounded up (exactly, in
    integers), word 0 when T′ = 1; :data:`NO_LINK` past T′."""
    src_words, tgt_words = (enc_len - 1)[:, None], (dec_len - 1)[:, None]
    j = np.arange(width)[None, :]
    span = np.maximum(tgt_words - 1, 1)
    linked = (2 * j * (src_words - 1) + span) // (2 * span)  # floor(x + 1/2), x = j (S′-1)/(T′-1)
    return np.where(j < tgt_words, linked, NO_LINK)


def link_counts(linked: np.ndarray, grid: np.ndarray, sentences: np.ndarray) -> dict[str, int]:
    """The counts behind AER, precision and recall over the ``sentences`` (N,) bool chosen:
    |A| predicted, |S| sure, |P| possible (sure included), |A ∩ S|, |A ∩ P|."""
    predicted = (linked != NO_LINK) & sentences[:, None]
    seq, word = np.nonzero(predicted)
    hits = grid[seq, word, linked[seq, word]]
    chosen = grid[sentences]
    return {
        "sentences": int(sentences.sum()),
        "predicted": len(seq),
        "sure": int((chosen == SURE).sum()),
        "possible": int((chosen > 0).sum()),
        "predicted_sure": int((hits == SURE).sum()),
        "predicted_possible": int((hits > 0).sum()),
    }


def scores(counts: dict[str, int]) -> dict[str, float]:
    """Och and Ney (2003): AER = 1 − (|A∩S| + |A∩P|) / (|A| + |S|), precision |A∩P| / |A|,
    recall |A∩S| / |S|; NaN where there is nothing to divide by."""

    def ratio(num, den):
        return num / den if den else float("nan")

    hits = counts["predicted_sure"] + counts["predicted_possible"]
    return {
        "aer": 1 - ratio(hits, counts["predicted"] + counts["sure"]),
        "precision": ratio(counts["predicted_possible"], counts["predicted"]),
        "recall": ratio(counts["predicted_sure"], counts["sure"]),
    }


def length_bins(enc_len: np.ndarray, dec_len: np.ndarray, max_len: int) -> dict[str, np.ndarray]:
    """(N,) bool per bin of :data:`LENGTH_BINS`: every sentence; both sides at most
    ``max_len`` words (the model's trained maximum); the rest."""
    inside = (enc_len - 1 <= max_len) & (dec_len - 1 <= max_len)
    return {"all": np.ones_like(inside), "inside": inside, "beyond": ~inside}


# ---------------------------------------------------------------------------- readings


def unit_readings(unit: att.Unit, encoder: Decomposition, scale: float) -> dict[str, np.ndarray]:
    """The weights (N, T, S) of each of :data:`WEIGHTS` for one unit, over each sentence's
    valid source positions: its attention; softmax of its μ·μ score alone; softmax of its
    score minus that term; its Ā restricted to the sentence's positions and renormalised
    (as ``analysis.attention.approximation`` applies Ā to other lengths)."""
    queries, enc_len = unit.queries, encoder.mask.sum(1)
    mu_scores = att.temporal_scores(queries.mu, encoder.mu, unit.w_q, unit.w_k, scale)  # (T, S)
    score = np.einsum("ntd,nsd->nts", queries.states @ unit.w_q, encoder.states @ unit.w_k) * scale
    a_bar = att.mean_attention(unit.attention, queries.mask)
    readings = {
        "attention": unit.attention,
        "temporal_only": att.by_length(mu_scores, softmax=True)[enc_len],
        "without_mu_mu": att.masked_softmax(score - mu_scores, encoder.mask[:, None, :]),
        "mean_attention": att.by_length(a_bar)[enc_len],
    }
    return {name: weights.astype(np.float32) for name, weights in readings.items()}


def _rows(layer, head, readings, grid, enc_len, dec_len, bins) -> list[dict]:
    """The table rows of one unit, layer or model: every convention, length bin and reading."""
    rows = []
    for convention, offset in CONVENTIONS.items():
        linked = {name: linked_words(readings[name], enc_len, dec_len, offset) for name in WEIGHTS}
        linked["diagonal"] = diagonal_words(enc_len, dec_len, grid.shape[1])
        for length_bin, sentences in bins.items():
            for reading in READINGS:
                counts = link_counts(linked[reading], grid, sentences)
                rows.append(
                    {
                        "layer": layer,
                        "head": head,
                        "convention": convention,
                        "length_bin": length_bin,
                        "reading": reading,
                        **scores(counts),
                        **counts,
                    }
                )
    return rows


def drawn_sentence(grid: np.ndarray, inside: np.ndarray) -> int:
    """The sentence a figure draws, by a stated rule: among the sentences inside the trained
    length (all, if none is), the one with the most gold links, the lowest index first."""
    pool = np.flatnonzero(inside) if inside.any() else np.arange(len(grid))
    links = (grid[pool] > 0).sum((1, 2))
    return int(pool[np.argmax(links)])


def sentence_arrays(index: int, readings: dict, grid: np.ndarray, probe: dict) -> dict[str, np.ndarray]:
    """One gold sentence for a figure, its T′ target words by its S′ + 1 source positions
    (``</s>`` last): ``gold_sentence_links`` (T′, S′ + 1) 2 sure, 1 possible, 0 none; the
    model's weights of each reading at the step of each convention,
    ``gold_sentence_<reading>`` (conventions, T′, S′ + 1); ``gold_sentence_diagonal`` (T′,);
    its tokens."""
    s_len, t_len = int(probe["enc_len"][index]), int(probe["dec_len"][index])
    words = np.arange(t_len - 1)
    out = {
        "gold_sentence": np.array(index, np.int32),
        "gold_sentence_conventions": np.array(list(CONVENTIONS)),
        "gold_sentence_enc_tokens": probe["enc_tokens"][index, :s_len],
        "gold_sentence_target_words": probe["dec_inputs"][index, 1:t_len],  # the targets before </s>
        "gold_sentence_links": grid[index, : t_len - 1, :s_len],
        "gold_sentence_diagonal": diagonal_words(probe["enc_len"][[index]], probe["dec_len"][[index]], t_len - 1)[0],
    }
    for name in WEIGHTS:
        rows = [readings[name][index, words + offset, :s_len] for offset in CONVENTIONS.values()]
        out[f"gold_sentence_{name}"] = np.stack(rows).astype(np.float32)
    return out


def gold_alignment(probe: dict, max_len: int, sentence: int | None = None) -> tuple[pd.DataFrame, dict]:
    """The table ``gold_alignment`` of a probe of the gold pairs (:data:`TABLE_COLUMNS`) and
    the arrays of one sentence for a figure (:func:`sentence_arrays`; ``sentence`` None: by
    :func:`drawn_sentence`). Rows: the model as a whole (layer −1, head −1: each reading the
    uniform mean of its units' weights, its attention the probe's ``attention``), then with
    several layers each layer (l, −1: the mean over its heads), then with several units each
    (layer, head). ``max_len`` is the model's trained maximum of words per side."""
    if "attention" not in probe or "gold_links" not in probe:
        missing = [key for key in ("attention", "gold_links") if key not in probe]
        raise DataError(
            f"the probe lacks {missing}: the alignment error rate needs a probe of a model with attention, made on "
            "the gold pairs with their links (attend.gold_alignment.encode_gold)"
        )
    enc_len, dec_len = probe["enc_len"], probe["dec_len"]
    n_tgt = len(probe["tgt_vocab"])
    encoder = decompose(probe["enc_states"], probe["enc_tokens"], enc_len, len(probe["src_vocab"]))
    decoder = decompose(probe["dec_states"], probe["dec_inputs"], dec_len, n_tgt)
    units = att.units(probe, decoder, lambda states: decompose(states, probe["dec_inputs"], dec_len, n_tgt))
    grid = gold_grid(probe["gold_links"], probe["gold_sure"], probe["attention"].shape)
    bins = length_bins(enc_len, dec_len, max_len)
    scale = float(probe["scale"])

    layers = sorted({u.layer for u in units})
    groups = {(WHOLE_MODEL, WHOLE_MODEL): [(u.layer, u.head) for u in units]}
    if len(layers) > 1:
        groups |= {(layer, WHOLE_MODEL): [(u.layer, u.head) for u in units if u.layer == layer] for layer in layers}
    rows = {key: [] for key in groups}
    sums = {key: dict.fromkeys(WEIGHTS, 0.0) for key in groups}
    for unit in units:  # one unit's readings at a time, summed into its layer's and the model's
        readings = unit_readings(unit, encoder, scale)
        if len(units) > 1:
            rows[(unit.layer, unit.head)] = _rows(unit.layer, unit.head, readings, grid, enc_len, dec_len, bins)
        for key, members in groups.items():
            if (unit.layer, unit.head) in members:
                for name in WEIGHTS:
                    sums[key][name] = sums[key][name] + readings[name]
    for key, members in groups.items():
        means = {name: total / len(members) for name, total in sums[key].items()}
        if key == (WHOLE_MODEL, WHOLE_MODEL):
            means["attention"] = probe["attention"]
            whole = means
        rows[key] = _rows(*key, means, grid, enc_len, dec_len, bins)
    table = pd.DataFrame([row for key in rows for row in rows[key]], columns=TABLE_COLUMNS["gold_alignment"])
    index = drawn_sentence(grid, bins["inside"]) if sentence is None else int(sentence)
    if not 0 <= index < len(enc_len):
        raise DataError(f"sentence {index} is not one of the probe's {len(enc_len)} gold pairs (0..{len(enc_len) - 1})")
    return table, sentence_arrays(index, whole, grid, probe)
