"""Attention against human word alignments (docs/science.md §4.9): the alignment error rate
of the links read from a model's attention, from its temporal terms alone, from everything
but its temporal terms, from the mean attention, and from position alone. numpy and pandas
only.

The input is one teacher-forced probe of the gold pairs carrying their links
(``attend.probe``, format 2: ``gold_links``, ``gold_sure``; ``attend.gold_alignment`` makes
the sequences). Its μ, χ, Δ come from that probe alone (``analysis.decompose``), each unit's
μ·μ score and its terms from ``analysis.attention``.

Words and positions. The gold links name *words*. A model whose tokens are the gold's words
has one position per word: a sentence of S′ source and T′ target words has its ``</s>`` at
source position S′ and target position T′ (``enc_len`` = S′ + 1, ``dec_len`` = T′ + 1). A
model of subwords says which word each position is (the probe's ``enc_word`` (N, S),
``dec_word`` (N, T); −1 at specials and padding); a word pair is then linked when any pair
of their subwords is, each target subword linked to the source subword of its largest
weight (the usual reading of subword aligners). :func:`word_maps` gives both maps, one
position one word when the probe has none.

A *linked* array (N, T) holds, for each target position (word, or subword), the source
position it is linked to, or :data:`NO_LINK`. The links of a reading and the gold are grids
(N, T_w, S_w) over (sequence, target word, source word): the gold's 2 sure, 1 possible
only, 0 no link; a reading's True where it links the pair.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..artifacts import DataError
from ..table_layout import GOLD_TABLE_COLUMNS
from ..tokens import PAD, UNK
from . import attention as att
from .decompose import Decomposition, decompose
from .measure import check_measurable

TABLE = "gold_alignment"  # its columns: attend.table_layout.GOLD_TABLE_COLUMNS
# The readings of where each target word looks (docs/science.md §4.9), in table order; all
# but the diagonal are weights of a unit, a layer or the model.
READINGS = ("attention", "temporal_only", "without_mu_mu", "mean_attention", "diagonal")
WEIGHTS = READINGS[:-1]
# Which decoder step stands for the target at position p: p + offset. "predicts": the step
# whose output is that target (its input is the one before); "reads": the step whose input it is.
CONVENTIONS = {"predicts": 0, "reads": 1}
LENGTH_BINS = ("all", "inside", "beyond")  # inside: both sides at most the trained length
WHOLE_MODEL = -1  # layer and head of the model as a whole, as in analysis.measure
NO_LINK = -1  # a position linked to nothing; also the word of a position that is no word
SURE, POSSIBLE = 2, 1  # gold grid values; a sure link is possible too
MU_MU = att.TERMS.index("mu·mu")


# ---------------------------------------------------------------------------- words


def position_words(lengths: np.ndarray, width: int) -> np.ndarray:
    """(N, width): one position one word, the word index of each position before the final
    ``</s>`` of a sequence of ``lengths`` positions, :data:`NO_LINK` at ``</s>`` and padding."""
    positions = np.arange(width)[None, :]
    return np.where(positions < (np.asarray(lengths) - 1)[:, None], positions, NO_LINK)


def word_maps(probe: dict) -> tuple[np.ndarray, np.ndarray]:
    """(enc_word (N, S), dec_word (N, T)): the gold word of each source position and of each
    target position (the decoder's output at that step), :data:`NO_LINK` where none: the
    probe's own maps (a model of subwords), else :func:`position_words`."""
    if "enc_word" in probe:
        return np.asarray(probe["enc_word"]), np.asarray(probe["dec_word"])
    return (
        position_words(probe["enc_len"], probe["enc_tokens"].shape[1]),
        position_words(probe["dec_len"], probe["dec_inputs"].shape[1]),
    )


def word_counts(word_map: np.ndarray) -> np.ndarray:
    """(N,): the words of each sequence (its largest word index + 1)."""
    return word_map.max(1) + 1


def target_tokens(probe: dict) -> np.ndarray:
    """(N, T): the target token at each position (the decoder's output at that step): the
    probe's ``targets``, else its decoder inputs shifted by one."""
    if "targets" in probe:
        return probe["targets"]
    inputs = probe["dec_inputs"]
    return np.concatenate([inputs[:, 1:], np.full((len(inputs), 1), PAD, inputs.dtype)], 1)


def oov_rates(probe: dict, enc_word: np.ndarray, dec_word: np.ndarray) -> dict[str, float]:
    """The share of each side's gold words of which a token is ``<unk>`` in the model's
    vocabulary (``source``, ``target``); NaN for a vocabulary without ``<unk>``."""
    rates = {}
    sides = (
        ("source", probe["enc_tokens"], probe["src_vocab"], enc_word),
        ("target", target_tokens(probe), probe["tgt_vocab"], dec_word),
    )
    for side, tokens, vocab, words in sides:
        unk = np.flatnonzero(np.asarray(vocab) == UNK)
        total = int(word_counts(words).sum())
        if not len(unk) or not total:
            rates[side] = float("nan")
            continue
        seq, pos = np.nonzero((tokens == unk[0]) & (words >= 0))
        unknown = len(np.unique(np.stack([seq, words[seq, pos]], 1), axis=0)) if len(seq) else 0
        rates[side] = unknown / total
    return rates


# ---------------------------------------------------------------------------- links and scores


def gold_grid(links: np.ndarray, sure: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """(N, T_w, S_w) int8 over (sequence, target word, source word): :data:`SURE`,
    :data:`POSSIBLE` (possible only) or 0, from ``links`` (K, 3) (sequence, target word,
    source word) and ``sure`` (K,) 0/1."""
    grid = np.zeros(shape, dtype=np.int8)
    grid[tuple(np.asarray(links).T)] = np.where(np.asarray(sure) > 0, SURE, POSSIBLE)
    return grid


def linked_words(weights: np.ndarray, enc_len: np.ndarray, dec_len: np.ndarray, offset: int) -> np.ndarray:
    """(N, T): the target at position p linked to the valid source position of the largest
    weight in row p + ``offset`` of ``weights`` (N, T, S) (the first on ties);
    :data:`NO_LINK` where that position is the source ``</s>`` or p is not before the target
    ``</s>`` (p ≥ dec_len − 1). One position one word, p is target word p."""
    _n, width, _s = weights.shape
    words = np.arange(width)
    steps = np.minimum(words + offset, width - 1)  # the clip only touches words past T′
    enc_mask = np.arange(weights.shape[2])[None, :] < enc_len[:, None]
    best = np.where(enc_mask[:, None, :], weights[:, steps], -np.inf).argmax(-1)
    keep = (words[None, :] < (dec_len - 1)[:, None]) & (best < (enc_len - 1)[:, None])
    return np.where(keep, best, NO_LINK)


def link_grid(linked: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """(N, T_w, S_w) bool from ``linked`` (N, T_w), the source word of each target word."""
    seq, word = np.nonzero(linked >= 0)
    grid = np.zeros(shape, dtype=bool)
    grid[seq, word, linked[seq, word]] = True
    return grid


def word_links(linked: np.ndarray, enc_word: np.ndarray, dec_word: np.ndarray, shape) -> np.ndarray:
    """(N, T_w, S_w) bool: the word pairs of ``linked`` (N, T) source positions per target
    position, through the word maps; a word pair is linked when any of its position pairs
    is, and a position of no word (−1: a special token) links nothing."""
    seq, pos = np.nonzero(linked != NO_LINK)
    target, source = dec_word[seq, pos], enc_word[seq, linked[seq, pos]]
    keep = (target >= 0) & (source >= 0)
    grid = np.zeros(shape, dtype=bool)
    grid[seq[keep], target[keep], source[keep]] = True
    return grid


def diagonal_words(enc_len: np.ndarray, dec_len: np.ndarray, width: int) -> np.ndarray:
    """(N, width): target word j of a T′-word sentence linked to source word
    round(j (S′ − 1) / (T′ − 1)) of its S′-word source, halves rounded up (exactly, in
    integers), word 0 when T′ = 1; :data:`NO_LINK` past T′. (S′ = enc_len − 1, T′ =
    dec_len − 1: the word counts with one ``</s>`` each.)"""
    src_words, tgt_words = (enc_len - 1)[:, None], (dec_len - 1)[:, None]
    j = np.arange(width)[None, :]
    span = np.maximum(tgt_words - 1, 1)
    linked = (2 * j * (src_words - 1) + span) // (2 * span)  # floor(x + 1/2), x = j (S′-1)/(T′-1)
    return np.where(j < tgt_words, linked, NO_LINK)


def link_counts(predicted: np.ndarray, grid: np.ndarray, sentences: np.ndarray) -> dict[str, int]:
    """The counts behind AER, precision and recall of the links ``predicted`` (N, T_w, S_w)
    bool over the ``sentences`` (N,) bool chosen: |A| predicted, |S| sure, |P| possible (sure
    included), |A ∩ S|, |A ∩ P|."""
    chosen = predicted & sentences[:, None, None]
    hits = grid[chosen]
    gold = grid[sentences]
    return {
        "sentences": int(sentences.sum()),
        "predicted": int(chosen.sum()),
        "sure": int((gold == SURE).sum()),
        "possible": int((gold > 0).sum()),
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


def length_bins(src_words: np.ndarray, tgt_words: np.ndarray, max_len: int) -> dict[str, np.ndarray]:
    """(N,) bool per bin of :data:`LENGTH_BINS`: every sentence; both sides at most
    ``max_len`` words (the model's trained maximum); the rest."""
    inside = (src_words <= max_len) & (tgt_words <= max_len)
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


def mu_mu_share(unit: att.Unit, encoder: Decomposition, scale: float) -> float:
    """The unit's μ·μ share (docs/science.md §4.2): |μ·μ| / Σ|terms| at its attended
    position, over every valid decoder step, as ``term_shares`` reports it."""
    attended = unit.attention.argmax(-1)
    terms = att.attended_terms(unit.queries, encoder, attended, unit.w_q, unit.w_k, scale)
    shares = att.term_shares(terms, unit.queries.rows[1], unit.queries.mask.shape[1])
    return float(shares["share"][MU_MU])


class _Sentences:
    """What every row of one probe's table needs: its lengths, word maps, the gold grid,
    the diagonal's links and the length bins."""

    def __init__(self, probe: dict, max_len: int):
        self.enc_len, self.dec_len = probe["enc_len"], probe["dec_len"]
        self.enc_word, self.dec_word = word_maps(probe)
        self.src_words, self.tgt_words = word_counts(self.enc_word), word_counts(self.dec_word)
        shape = (len(self.enc_len), max(int(self.tgt_words.max()), 1), max(int(self.src_words.max()), 1))
        self.grid = gold_grid(probe["gold_links"], probe["gold_sure"], shape)
        diagonal = diagonal_words(self.src_words + 1, self.tgt_words + 1, shape[1])
        self.diagonal = link_grid(diagonal, shape)
        self.bins = length_bins(self.src_words, self.tgt_words, max_len)

    def links(self, weights: np.ndarray, offset: int) -> np.ndarray:
        """The word links of one reading's weights under one convention."""
        linked = linked_words(weights, self.enc_len, self.dec_len, offset)
        return word_links(linked, self.enc_word, self.dec_word, self.grid.shape)


def _rows(layer, head, readings, sentences: _Sentences, about: dict) -> list[dict]:
    """The table rows of one unit, layer or model: every convention, length bin and reading;
    ``about`` the columns that are the same in all of them."""
    rows = []
    for convention, offset in CONVENTIONS.items():
        links = {name: sentences.links(readings[name], offset) for name in WEIGHTS}
        links["diagonal"] = sentences.diagonal
        for length_bin, chosen in sentences.bins.items():
            for reading in READINGS:
                counts = link_counts(links[reading], sentences.grid, chosen)
                rows.append(
                    {
                        "layer": layer,
                        "head": head,
                        "convention": convention,
                        "length_bin": length_bin,
                        "reading": reading,
                        **scores(counts),
                        **counts,
                        **about,
                    }
                )
    return rows


def drawn_sentence(grid: np.ndarray, inside: np.ndarray) -> int:
    """The sentence a figure draws, by a stated rule: among the sentences inside the trained
    length (all, if none is), the one with the most sure links, then the most links, the
    lowest index first. (Most links alone would pick an idiom whose words are all linked
    to all, possibly: a block that says little.)"""
    pool = np.flatnonzero(inside) if inside.any() else np.arange(len(grid))
    sure, links = (grid[pool] == SURE).sum((1, 2)), (grid[pool] > 0).sum((1, 2))
    return int(pool[np.lexsort((pool, -links, -sure))[0]])


def sentence_arrays(index: int, readings: dict, sentences: _Sentences, probe: dict) -> dict[str, np.ndarray]:
    """One gold sentence for a figure, its T′ target positions before ``</s>`` by its S′ + 1
    source positions (``</s>`` last; positions are words, or a subword model's subwords):
    ``gold_sentence_links`` (T′, S′ + 1) 2 sure, 1 possible, 0 none (a position pair
    carries the link of its words); the model's weights of each reading at the step of each
    convention, ``gold_sentence_<reading>`` (conventions, T′, S′ + 1);
    ``gold_sentence_diagonal`` (T′,), the source position the diagonal links each target
    position to (the first of its word's), −1 none; its tokens."""
    s_len, t_len = int(sentences.enc_len[index]), int(sentences.dec_len[index])
    positions = np.arange(t_len - 1)
    enc_word, dec_word = sentences.enc_word[index, :s_len], sentences.dec_word[index, : t_len - 1]
    pairs = (dec_word[:, None] >= 0) & (enc_word[None, :] >= 0)
    links = np.where(pairs, sentences.grid[index][np.maximum(dec_word, 0)[:, None], np.maximum(enc_word, 0)[None]], 0)
    diagonal_word = sentences.diagonal[index].argmax(-1)  # each target word's source word
    first = {int(w): int(np.flatnonzero(enc_word == w)[0]) for w in np.unique(enc_word[enc_word >= 0])}
    diagonal = np.array(
        [first.get(int(diagonal_word[w]), NO_LINK) if w >= 0 else NO_LINK for w in dec_word], np.int32
    ).reshape(-1)
    out = {
        "gold_sentence": np.array(index, np.int32),
        "gold_sentence_conventions": np.array(list(CONVENTIONS)),
        "gold_sentence_enc_tokens": probe["enc_tokens"][index, :s_len],
        "gold_sentence_target_words": target_tokens(probe)[index, : t_len - 1],  # the targets before </s>
        "gold_sentence_links": links.astype(np.int8),
        "gold_sentence_diagonal": diagonal,
    }
    for name in WEIGHTS:
        rows = [readings[name][index, positions + offset, :s_len] for offset in CONVENTIONS.values()]
        out[f"gold_sentence_{name}"] = np.stack(rows).astype(np.float32)
    return out


def gold_alignment(probe: dict, max_len: int, sentence: int | None = None) -> tuple[pd.DataFrame, dict]:
    """The table ``gold_alignment`` of a probe of the gold pairs (its columns:
    ``attend.table_layout.GOLD_TABLE_COLUMNS``) and the arrays of one sentence for a figure
    (:func:`sentence_arrays`; ``sentence`` None: by :func:`drawn_sentence`), with the model's
    ``arch``, vocabularies and ``identity``. Rows: the model as a whole (layer −1, head −1:
    each reading the uniform mean of its units' weights, its attention the probe's
    ``attention``, its μ·μ share the mean of its units'), then with several layers each
    layer (l, −1: the mean over its heads), then with several units each (layer, head).
    ``max_len`` is the model's trained maximum of words per side."""
    if "attention" not in probe or "gold_links" not in probe:
        missing = [key for key in ("attention", "gold_links") if key not in probe]
        raise DataError(
            f"the probe lacks {missing}: the alignment error rate needs a probe of a model with attention, made on "
            "the gold pairs with their links (attend.gold_alignment.encode_gold)"
        )
    check_measurable(probe)  # as every measurement: enough sequences, states that vary
    enc_len, dec_len = probe["enc_len"], probe["dec_len"]
    n_tgt = len(probe["tgt_vocab"])
    encoder = decompose(probe["enc_states"], probe["enc_tokens"], enc_len, len(probe["src_vocab"]))
    decoder = decompose(probe["dec_states"], probe["dec_inputs"], dec_len, n_tgt)
    units = att.units(probe, decoder, lambda states: decompose(states, probe["dec_inputs"], dec_len, n_tgt))
    sentences = _Sentences(probe, max_len)
    oov = oov_rates(probe, sentences.enc_word, sentences.dec_word)
    vocabulary = {"source_oov_rate": oov["source"], "target_oov_rate": oov["target"]}
    scale = float(probe["scale"])

    layers = sorted({u.layer for u in units})
    groups = {(WHOLE_MODEL, WHOLE_MODEL): [(u.layer, u.head) for u in units]}
    if len(layers) > 1:
        groups |= {(layer, WHOLE_MODEL): [(u.layer, u.head) for u in units if u.layer == layer] for layer in layers}
    rows = {key: [] for key in groups}
    sums = {key: dict.fromkeys(WEIGHTS, 0.0) for key in groups}
    shares = {}
    # one unit's readings at a time, summed into its layer's and the model's
    for unit in att.one_layer_at_a_time(units):
        readings = unit_readings(unit, encoder, scale)
        shares[(unit.layer, unit.head)] = mu_mu_share(unit, encoder, scale)
        if len(units) > 1:
            about = {"mu_mu_share": shares[(unit.layer, unit.head)], **vocabulary}
            rows[(unit.layer, unit.head)] = _rows(unit.layer, unit.head, readings, sentences, about)
        for key, members in groups.items():
            if (unit.layer, unit.head) in members:
                for name in WEIGHTS:
                    sums[key][name] = sums[key][name] + readings[name]
    for key, members in groups.items():
        means = {name: total / len(members) for name, total in sums[key].items()}
        if key == (WHOLE_MODEL, WHOLE_MODEL):
            means["attention"] = probe["attention"]
            whole = means
        about = {"mu_mu_share": float(np.mean([shares[m] for m in members])), **vocabulary}
        rows[key] = _rows(*key, means, sentences, about)
    table = pd.DataFrame([row for key in rows for row in rows[key]], columns=GOLD_TABLE_COLUMNS[TABLE])
    index = drawn_sentence(sentences.grid, sentences.bins["inside"]) if sentence is None else int(sentence)
    if not 0 <= index < len(enc_len):
        raise DataError(f"sentence {index} is not one of the probe's {len(enc_len)} gold pairs (0..{len(enc_len) - 1})")
    arrays = {
        "arch": np.asarray(probe.get("arch", np.array(""))),
        "src_vocab": probe["src_vocab"],
        "tgt_vocab": probe["tgt_vocab"],
        **({"identity": probe["identity"]} if "identity" in probe else {}),
        **sentence_arrays(index, whole, sentences, probe),
    }
    return table, arrays
