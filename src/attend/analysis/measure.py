"""Every measurement of docs/science.md §4 for one probed model: tables (CSV) and the arrays
the figures draw (``analysis.npz``). numpy and pandas only; no TensorFlow, Keras or torch.

:func:`measure` runs every measurement the probe's keys allow (``attend.probe``: a model
without attention has no score breakdown, a probe without targets no accuracy by length,
without the value path no dictionary...) and says why it skipped the others. The tables'
columns are declared in :mod:`attend.table_layout`.

``analysis.npz`` layout (T decoder and S encoder positions, n units, side ∈ {enc, dec};
P and V the positions and the vocabulary of that side, P = S for enc and T for dec):

=========================  ==========  ================================================
key                        shape       meaning
=========================  ==========  ================================================
arch, src_vocab, tgt_vocab, identity   as in the probe
{side}_mu                  (P, n)      temporal components μ_t
{side}_chi                 (V, n)      input components χ(w) (0 for unseen words)
{side}_step_count          (P,)        sequences valid at each position
{side}_word_count          (V,)        valid occurrences of each word
{side}_pca_basis           (3, n)      top principal axes of the valid states
{side}_pca_mean            (n,)        their mean
{side}_points              (K, 3)      a sample of states in PCA coordinates
{side}_point_tokens        (K,)        the word at each sampled state
{side}_point_steps         (K,)        its position
sample_*                               ``n_samples`` representative test sequences
                                       (:func:`representative`): attention, enc_tokens,
                                       targets (with the probe's targets), enc_len,
                                       dec_len, index
mean_attention             (T, S)      Ā, of the model's ``attention`` (the uniform mean
                                       over its heads and layers)
temporal_attention         (T, S)      softmax_s of the model's μ·μ score alone
temporal_scores            (T, S)      the model's μ·μ score: the sum over its (layer,
                                       head) units of each one's μ·μ score
term_share_by_step         (T, 9)      share of each term at the attended position
term_signed_by_step        (T, 9)      its signed mean there (both: the model as a
                                       whole, layer -1 and head -1 of term_shares)
term_names                 (9,)        "mu·mu", "mu·chi", … (decoder·encoder)
unit_layer, unit_head      (U,)        the (layer, head) of each unit, for a model of
                                       more than one (heads or layers)
unit_mean_attention        (U, T, S)   each unit's own Ā
unit_temporal_attention    (U, T, S)   each unit's own temporal-only attention
unit_sample_attention      (k, U, T, S) each unit's weights on the samples
value_points               (K, dv)     V (χ^E + Δ^E) at sampled encoder positions
value_tokens               (K,)        their words
readout_context            (dv, V_tgt) W_c, the readout of the context vector
=========================  ==========  ================================================
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..table_layout import TABLE_COLUMNS, WHOLE_MODEL
from ..tokens import PAD
from . import attention as att
from .decompose import Decomposition, decompose, variance_fractions
from .readout import dictionary_table
from .words import accuracy_by_length, offsets, word_attention, word_variance

N_POINTS = 1500  # sampled states kept for scatter plots
# Below this many sequences the measurements mean little and are refused: μ_t is the mean
# of the states at step t over the sequences, so it absorbs about 1/N of each state's own
# variance (at N = 1 it is the state itself: "μ carries 100%", "agreement 100%"); at 20
# that inflation is at most 5% of the non-temporal variance.
MIN_SEQUENCES = 20
# Columns where an empty cell is a value, not a failure: a source word without a
# translation in the task's dictionary has no "correct".
MAY_BE_EMPTY = {"dictionary": ("translation", "correct")}
# How far a unit's nine terms may be from adding up to its score, relative to its largest
# score (attend.analysis.attention.terms_error): float32 rounding stays near 1e-6.
TERMS_TOLERANCE = 1e-3


class MeasurementError(ValueError):
    """A probe whose measurements would have no meaning; the message names the measurement
    and the cause."""


def check_measurable(probe: dict) -> None:
    """Refuse, before any work, a probe the measurements cannot give meaning to: fewer than
    :data:`MIN_SEQUENCES` sequences, or states without variance (all zero, or constant)."""
    n = len(probe["enc_states"])
    if n < MIN_SEQUENCES:
        raise MeasurementError(
            f"the probe holds {n} sequence{'s' if n != 1 else ''}; the decomposition needs at least {MIN_SEQUENCES} "
            "(mu_t, the mean over sequences at each step, would absorb about 1/N of every state's own variance: "
            "at N = 1 it is the state itself); probe more sequences"
        )
    for key, lengths in (("enc_states", "enc_len"), ("dec_states", "dec_len")):
        valid = probe[key][np.arange(probe[key].shape[1])[None] < probe[lengths][:, None]]
        if not np.ptp(valid, axis=0).any():
            raise MeasurementError(
                f"'{key}' are the same at every valid position (all zero?): there is no variance to decompose; "
                "record the model's states"
            )


def check_finite(tables: dict[str, pd.DataFrame], probe: dict) -> None:
    """Refuse to hand on a table with a non-finite number, naming the measurement, the
    column and the likely cause (states so large that their products overflow)."""
    for name, df in tables.items():
        for column in df.select_dtypes("number").columns:
            values = df[column].to_numpy(dtype=np.float64)
            bad = ~np.isfinite(values) if column not in MAY_BE_EMPTY.get(name, ()) else np.isinf(values)
            if bad.any():
                largest = max(float(np.abs(probe[k]).max()) for k in ("enc_states", "dec_states"))
                raise MeasurementError(
                    f"the measurement '{name}' came out non-finite ({int(bad.sum())} value(s) of '{column}'): the "
                    f"probe's states reach |h| = {largest:.3g}, and their products overflow or vanish; record states "
                    "on the model's own scale (or rescale them, with W_q and W_k rescaled to keep the scores)"
                )


def _sample_positions(mask: np.ndarray, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    seq, pos = np.nonzero(mask)
    pick = np.sort(np.random.default_rng(seed).permutation(len(seq))[:k])
    return seq[pick], pos[pick]


def _pca(flat: np.ndarray, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Top-k principal axes of the (M, n) valid states, from the n × n covariance."""
    x = flat.astype(np.float64)
    mean = x.mean(0)
    x -= mean
    _values, vectors = np.linalg.eigh(x.T @ x)
    axes = vectors[:, ::-1][:, :k].T
    axes *= np.sign(axes.sum(1, keepdims=True) + 1e-12)  # a fixed sign per axis, for stable plots
    return axes.astype(np.float32), mean.astype(np.float32)


def _side_arrays(side: str, parts: Decomposition) -> dict[str, np.ndarray]:
    basis, mean = _pca(parts.flat)
    seq, pos = _sample_positions(parts.mask, N_POINTS)
    return {
        f"{side}_mu": parts.mu,
        f"{side}_chi": parts.chi,
        f"{side}_step_count": parts.step_count,
        f"{side}_word_count": parts.word_count,
        f"{side}_pca_basis": basis,
        f"{side}_pca_mean": mean,
        f"{side}_points": (parts.states[seq, pos] - mean) @ basis.T,
        f"{side}_point_tokens": parts.tokens[seq, pos],
        f"{side}_point_steps": pos,
    }


def attention_quality(attention: np.ndarray, dec_mask: np.ndarray, enc_mask: np.ndarray) -> dict[str, float]:
    """How sharp and how diagonal the attention is, over valid decoder steps:
    ``max_attention``, the mean of each step's largest weight, and ``near_diagonal``, the
    fraction of steps whose argmax lies within one position of the proportional diagonal
    s = t (S - 1) / (T - 1) of a sequence with T decoder and S encoder positions."""
    dec_len, enc_len = dec_mask.sum(1, keepdims=True), enc_mask.sum(1, keepdims=True)
    t = np.arange(dec_mask.shape[1])[None, :]
    diagonal = t * (enc_len - 1) / np.maximum(dec_len - 1, 1)
    near = np.abs(attention.argmax(-1) - diagonal) <= 1
    return {"max_attention": float(attention.max(-1)[dec_mask].mean()), "near_diagonal": float(near[dec_mask].mean())}


def representative(targets: np.ndarray, predictions: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` sequences the figures draw as samples, by a stated rule: sequences the
    model got entirely right come first; among them, those whose target length is closest
    to the median target length of the right ones, the lower index first. (Wrong ones
    follow by the same rule, should fewer than k be right.)"""
    valid = targets != PAD
    right = ((predictions == targets) | ~valid).all(1)
    length = valid.sum(1)
    median = np.median(length[right]) if right.any() else np.median(length)
    order = np.lexsort((np.arange(len(targets)), np.abs(length - median), ~right))
    return order[:k]


def decompose_both(probe: dict) -> tuple[Decomposition, Decomposition]:
    """The encoder's and the decoder's decomposition (§4.1)."""
    encoder = decompose(probe["enc_states"], probe["enc_tokens"], probe["enc_len"], len(probe["src_vocab"]))
    decoder = decompose(probe["dec_states"], probe["dec_inputs"], probe["dec_len"], len(probe["tgt_vocab"]))
    return encoder, decoder


def _share_rows(layer: int, head: int, shares: dict, n: int) -> list[dict]:
    """term_shares rows of one unit, layer or the whole model: overall (step -1), then per step."""
    steps = np.flatnonzero(shares["step_count"])
    return [
        {
            "layer": layer,
            "head": head,
            "step": -1,
            "term": name,
            "share": shares["share"][i],
            "signed_mean": shares["signed"][i],
            "n": n,
        }
        for i, name in enumerate(att.TERMS)
    ] + [
        {
            "layer": layer,
            "head": head,
            "step": int(t),
            "term": name,
            "share": shares["share_by_step"][t, i],
            "signed_mean": shares["signed_by_step"][t, i],
            "n": int(shares["step_count"][t]),
        }
        for t in steps
        for i, name in enumerate(att.TERMS)
    ]


SHARE_KEYS = ("share", "share_by_step", "signed", "signed_by_step")


def _mean_of(results: list[dict]) -> tuple[dict, dict]:
    """The uniform mean over units of their shares and of their metrics."""
    shares = {key: np.mean([r["shares"][key] for r in results], axis=0) for key in SHARE_KEYS}
    shares["step_count"] = results[0]["shares"]["step_count"]
    metrics = {key: float(np.mean([r["metrics"][key] for r in results])) for key in results[0]["metrics"]}
    return shares, metrics


def unit_tables(units: list, results: list[dict], n: int) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The term_shares and approximation tables of an attention model from its units'
    breakdowns (:func:`attend.analysis.attention.unit_breakdown`, metrics completed with
    :func:`attention_quality`), and the shares of the model as a whole. One unit: its
    values are the model's. Several: the model as a whole (layer -1, head -1) is the
    uniform mean over units of each share, signed mean and metric; each unit has its own
    rows, and with several layers each layer (l, -1) the mean over its heads."""
    groups = [((WHOLE_MODEL, WHOLE_MODEL), results)]
    if len(units) > 1:
        layers = sorted({u.layer for u in units})
        if len(layers) > 1:
            groups += [
                ((layer, WHOLE_MODEL), [r for u, r in zip(units, results) if u.layer == layer]) for layer in layers
            ]
        groups += [((u.layer, u.head), [r]) for u, r in zip(units, results)]
    share_rows, metric_rows, whole = [], [], None
    for (layer, head), members in groups:
        shares, metrics = _mean_of(members)
        if whole is None:
            whole = shares
        share_rows += _share_rows(layer, head, shares, n)
        metric_rows += [{"layer": layer, "head": head, "metric": k, "value": v} for k, v in metrics.items()]
    return (
        pd.DataFrame(share_rows, columns=TABLE_COLUMNS["term_shares"]),
        pd.DataFrame(metric_rows, columns=TABLE_COLUMNS["approximation"]),
        whole,
    )


def attention_measurements(probe: dict, encoder: Decomposition, decoder: Decomposition, samples: np.ndarray):
    """The attention measurements of a probe with attention: its units' breakdowns, the
    term_shares and approximation tables, the model's μ·μ score and the arrays the figures
    draw. Returns (term_shares, approximation, μ·μ score (T, S), arrays)."""
    scale, align = float(probe["scale"]), probe.get("align")

    def decompose_queries(states):  # a Transformer layer's query-side states, keyed like the decoder's
        return decompose(states, probe["dec_inputs"], probe["dec_len"], len(probe["tgt_vocab"]))

    units = att.units(probe, decoder, decompose_queries)
    results = []
    for unit in att.one_layer_at_a_time(units):
        result = att.unit_breakdown(unit, encoder, scale, align)
        if result["terms_error"] > TERMS_TOLERANCE:
            largest = max(float(np.abs(probe[k]).max()) for k in ("enc_states", "dec_states"))
            raise MeasurementError(
                f"the nine terms of (layer {unit.layer}, head {unit.head}) do not add up to its scores (off by "
                f"{result['terms_error']:.3g} of the largest score): at this scale (states up to |h| = {largest:.3g}) "
                "their float32 products overflow or vanish; record states on the model's own scale"
            )
        result["metrics"].update(attention_quality(unit.attention, unit.queries.mask, encoder.mask))
        results.append(result)
    shares_table, approx_table, whole = unit_tables(units, results, int(decoder.mask.sum()))
    attention = probe["attention"]
    mu_scores = np.sum([r["mu_scores"] for r in results], axis=0)
    occupied = encoder.mask.any(0)
    arrays = {
        "mean_attention": att.mean_attention(attention, decoder.mask),
        "temporal_attention": att.masked_softmax(mu_scores, np.broadcast_to(occupied, mu_scores.shape)),
        "temporal_scores": mu_scores.astype(np.float32),
        "sample_attention": attention[samples],
        "term_share_by_step": whole["share_by_step"].astype(np.float32),
        "term_signed_by_step": whole["signed_by_step"].astype(np.float32),
        "term_names": np.array(att.TERMS),
    }
    if len(units) > 1:
        arrays.update(
            unit_layer=np.array([u.layer for u in units], np.int32),
            unit_head=np.array([u.head for u in units], np.int32),
            unit_mean_attention=np.stack([r["mean_attention"] for r in results]).astype(np.float32),
            unit_temporal_attention=np.stack([r["temporal_attention"] for r in results]).astype(np.float32),
            unit_sample_attention=np.stack([u.attention[samples] for u in units], 1).astype(np.float32),
        )
    return shares_table, approx_table, mu_scores, arrays


def measure(
    probe: dict, dictionary: dict, n_samples: int
) -> tuple[dict[str, pd.DataFrame], dict[str, np.ndarray], dict[str, str]]:
    """Every measurement the probe's keys allow, for one model: (tables, the figures'
    arrays, skipped), where ``skipped`` says, for each measurement not made, why. A
    table not made is empty (its columns only). ``dictionary`` maps source words to their
    translations ({} when the task has none)."""
    check_measurable(probe)
    enc_h = probe["enc_states"]
    src_vocab, tgt_vocab = probe["src_vocab"], probe["tgt_vocab"]
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported below, by measurement
        tables, arrays, skipped = _measure(probe, enc_h, src_vocab, tgt_vocab, dictionary, n_samples)
    check_finite(tables, probe)
    return tables, arrays, skipped


def _measure(probe, enc_h, src_vocab, tgt_vocab, dictionary, n_samples):
    encoder, decoder = decompose_both(probe)
    tables = {name: pd.DataFrame(columns=cols) for name, cols in TABLE_COLUMNS.items()}
    skipped: dict[str, str] = {}
    arrays = {
        "arch": np.asarray(probe.get("arch", np.array(""))),
        "src_vocab": src_vocab,
        "tgt_vocab": tgt_vocab,
        **_side_arrays("enc", encoder),
        **_side_arrays("dec", decoder),
    }
    if "identity" in probe:
        arrays["identity"] = probe["identity"]

    tables["variance"] = pd.DataFrame(
        [
            {"side": side, "component": c, "fraction": f}
            for side, parts in (("encoder", encoder), ("decoder", decoder))
            for c, f in variance_fractions(parts).items()
        ]
    )
    tables["word_variance"] = pd.concat(
        [word_variance("encoder", encoder, src_vocab), word_variance("decoder", decoder, tgt_vocab)], ignore_index=True
    )
    k = min(n_samples, len(enc_h))
    if "targets" in probe:
        tables["accuracy_by_length"] = accuracy_by_length(probe["targets"], probe["predictions"], probe["enc_len"])
        samples = representative(probe["targets"], probe["predictions"], k)
        arrays["sample_targets"] = probe["targets"][samples]
    else:
        skipped["accuracy_by_length"] = "no targets and predictions in the probe"
        samples = np.arange(k)
    arrays["sample_index"] = samples  # which probed (test) sequences the samples are
    arrays.update({f"sample_{key}": probe[key][samples] for key in ("enc_tokens", "enc_len", "dec_len")})
    if "attention" not in probe:
        for name in ("term_shares", "approximation", "dictionary", "alignment_offsets", "word_attention"):
            skipped[name] = "the model has no attention"
        return tables, arrays, skipped

    tables["term_shares"], tables["approximation"], mu_scores, attention_arrays = attention_measurements(
        probe, encoder, decoder, samples
    )
    arrays.update(attention_arrays)
    attention, align = probe["attention"], probe.get("align")
    if align is not None:
        tables["alignment_offsets"] = offsets(attention, align, decoder.mask, mu_scores, encoder.step_count > 0)
    else:
        skipped["alignment_offsets"] = "no alignment in the probe (the task does not know one)"
    tables["word_attention"] = word_attention(attention, probe["enc_tokens"], decoder.mask, src_vocab)
    if "W_v" in probe:
        w_v, w_c = probe["W_v"], probe["W_c"]
        tables["dictionary"] = dictionary_table(
            encoder.chi, encoder.word_count, w_v, w_c, src_vocab, tgt_vocab, dictionary
        )
        if not dictionary:
            skipped["dictionary accuracy"] = "no task dictionary (the table still gives each word's read-out word)"
        seq, pos = _sample_positions(encoder.mask, N_POINTS, seed=1)
        input_part = enc_h[seq, pos] - encoder.mu[pos]  # χ + Δ at the sampled positions
        arrays.update(
            value_points=(input_part @ w_v).astype(np.float32),
            value_tokens=encoder.tokens[seq, pos],
            readout_context=w_c.astype(np.float32),
        )
    else:
        skipped["dictionary"] = "no value path (W_v, W_c) in the probe"
    return tables, arrays, skipped
