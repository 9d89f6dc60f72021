"""Every measurement of PAPER.md §4 for one probed model: tables (CSV) and the arrays the
figures draw (``analysis.npz``). numpy and pandas only; no TensorFlow.

``analysis.npz`` layout (T decoder and S encoder positions, n units, side ∈ {enc, dec}):

=========================  ==========  ================================================
key                        shape       meaning
=========================  ==========  ================================================
arch, src_vocab, tgt_vocab, identity   as in the probe
{side}_mu                  (L, n)      temporal components μ_t
{side}_chi                 (V, n)      input components χ(w) (0 for unseen words)
{side}_step_count          (L,)        sequences valid at each position
{side}_word_count          (V,)        valid occurrences of each word
{side}_pca_basis           (3, n)      top principal axes of the valid states
{side}_pca_mean            (n,)        their mean
{side}_points              (K, 3)      a sample of states in PCA coordinates
{side}_point_tokens        (K,)        the word at each sampled state
{side}_point_steps         (K,)        its position
sample_*                               ``n_samples`` representative test sequences
                                       (:func:`representative`): attention (AED, AO),
                                       enc_tokens, targets, enc_len, dec_len, index
mean_attention             (T, S)      Ā (AED, AO; of a multi-head model, of its
                                       head-averaged attention)
temporal_attention         (T, S)      softmax_s of the μ·μ score alone (of a multi-head
                                       model, of its heads' summed μ·μ score)
temporal_scores            (T, S)      the μ·μ score
term_share_by_step         (T, 9)      share of each term at the attended position
term_signed_by_step        (T, 9)      its signed mean there (both: the model as a
                                       whole, head -1 of the term_shares table)
term_names                 (9,)        "mu·mu", "mu·chi", … (decoder·encoder)
value_points               (K, dv)     V (χ^E + Δ^E) at sampled encoder positions
value_tokens               (K,)        their words
readout_context            (dv, V_tgt) W_c, the readout of the context vector
=========================  ==========  ================================================
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..tokens import PAD
from . import attention as att
from .decompose import Decomposition, decompose, variance_fractions
from .readout import context_readout, dictionary_table
from .words import accuracy_by_length, offsets, word_attention, word_variance

# Every per-model table, declared once: its columns. The workflow writes one CSV per
# table per model and stacks each across task × architecture × seed (attend.tables).
# ``head`` (term_shares, approximation): -1 is the model as a whole, which every claim and
# figure reads; a multi-head model's -1 rows are the uniform mean over its heads of each
# head's own value, and its rows 0..H-1 are the heads (:func:`head_tables`).
WHOLE_MODEL = -1
TABLE_COLUMNS = {
    "variance": ["side", "component", "fraction"],
    "term_shares": ["head", "step", "term", "share", "signed_mean", "n"],
    "approximation": ["head", "metric", "value"],
    "dictionary": ["word", "count", "translation", "predicted", "correct", "cosine"],
    "word_variance": ["side", "word", "count", "variance", "variance_without_mu"],
    "accuracy_by_length": ["length", "n", "token_acc", "seq_acc"],
    "alignment_offsets": ["step", "n", "data_offset", "attended_offset", "temporal_offset"],
    "word_attention": ["word", "offset", "attention", "n"],
}
N_POINTS = 1500  # sampled states kept for scatter plots


def _sample_positions(mask: np.ndarray, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    seq, pos = np.nonzero(mask)
    pick = np.sort(np.random.default_rng(seed).permutation(len(seq))[:k])
    return seq[pick], pos[pick]


def _pca(flat: np.ndarray, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Top-k principal axes of the (M, n) valid states, from the n × n covariance."""
    x = flat.astype(np.float64)
    mean = x.mean(0)
    x -= mean
    values, vectors = np.linalg.eigh(x.T @ x)
    axes = vectors[:, ::-1][:, :k].T
    axes *= np.sign(axes.sum(1, keepdims=True) + 1e-12)   # a fixed sign per axis, for stable plots
    return axes.astype(np.float32), mean.astype(np.float32)


def _side_arrays(side: str, parts: Decomposition) -> dict[str, np.ndarray]:
    basis, mean = _pca(parts.flat)
    seq, pos = _sample_positions(parts.mask, N_POINTS)
    return {
        f"{side}_mu": parts.mu, f"{side}_chi": parts.chi, f"{side}_step_count": parts.step_count,
        f"{side}_word_count": parts.word_count, f"{side}_pca_basis": basis, f"{side}_pca_mean": mean,
        f"{side}_points": (parts.states[seq, pos] - mean) @ basis.T,
        f"{side}_point_tokens": parts.tokens[seq, pos], f"{side}_point_steps": pos,
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
    return {"max_attention": float(attention.max(-1)[dec_mask].mean()),
            "near_diagonal": float(near[dec_mask].mean())}


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


def breakdown(probe: dict, encoder: Decomposition, decoder: Decomposition):
    """The score breakdown (§4.2) and the average- and temporal-only approximations
    (§4.3–4.4) of an attention model: (shares, μ·μ scores, approximation metrics, arrays)."""
    w_q, w_k, scale = probe["W_q"], probe["W_k"], float(probe["scale"])
    attended = probe["attention"].argmax(-1)       # s* of every decoder step
    terms = att.attended_terms(decoder, encoder, attended, w_q, w_k, scale)
    shares = att.term_shares(terms, decoder.rows[1], decoder.mask.shape[1])
    mu_scores = att.temporal_scores(decoder.mu, encoder.mu, w_q, w_k, scale)
    metrics, arrays = att.approximation(probe["attention"], decoder.mask, encoder.mask, mu_scores,
                                        probe.get("align"), attended)
    return shares, mu_scores, metrics, arrays


def _share_rows(head: int, shares: dict, n: int) -> list[dict]:
    """term_shares rows of one head (or the whole model): overall (step -1), then per step."""
    steps = np.flatnonzero(shares["step_count"])
    return ([{"head": head, "step": -1, "term": name, "share": shares["share"][i], "signed_mean": shares["signed"][i],
              "n": n} for i, name in enumerate(att.TERMS)]
            + [{"head": head, "step": int(t), "term": name, "share": shares["share_by_step"][t, i],
                "signed_mean": shares["signed_by_step"][t, i], "n": int(shares["step_count"][t])}
               for t in steps for i, name in enumerate(att.TERMS)])


def head_tables(probe: dict, encoder: Decomposition, decoder: Decomposition, shares: dict,
                metrics: dict) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The term_shares and approximation tables of an attention model, and the shares of
    the model as a whole (head -1). One head: ``shares`` and ``metrics`` (from
    :func:`breakdown`) are the model's. Several (a multihead probe): every head is
    analysed on its own (:func:`attend.analysis.attention.head_breakdown`: its attended
    positions, terms, Ā_h and temporal-only attention) as heads 0..H-1, and the model as a
    whole is the uniform mean over heads of each share, signed mean and metric."""
    n = int(decoder.mask.sum())
    if "head_attention" not in probe:
        return (pd.DataFrame(_share_rows(WHOLE_MODEL, shares, n), columns=TABLE_COLUMNS["term_shares"]),
                pd.DataFrame({"head": WHOLE_MODEL, "metric": list(metrics), "value": list(metrics.values())},
                             columns=TABLE_COLUMNS["approximation"]), shares)
    per = att.head_breakdown(probe, encoder, decoder)
    heads = len(per["metrics"])
    head_metrics = [per["metrics"][h] | attention_quality(probe["head_attention"][:, h], decoder.mask, encoder.mask)
                    for h in range(heads)]
    head_shares = [{key: value[h] for key, value in per["shares"].items() if key != "step_count"}
                   | {"step_count": per["shares"]["step_count"]} for h in range(heads)]
    whole = {key: value.mean(0) for key, value in per["shares"].items() if key != "step_count"}
    whole["step_count"] = per["shares"]["step_count"]
    whole_metrics = {key: float(np.mean([m[key] for m in head_metrics])) for key in head_metrics[0]}
    share_rows = _share_rows(WHOLE_MODEL, whole, n)
    for h in range(heads):
        share_rows += _share_rows(h, head_shares[h], n)
    metric_rows = [{"head": head, "metric": key, "value": value}
                   for head, m in [(WHOLE_MODEL, whole_metrics), *enumerate(head_metrics)] for key, value in m.items()]
    return (pd.DataFrame(share_rows, columns=TABLE_COLUMNS["term_shares"]),
            pd.DataFrame(metric_rows, columns=TABLE_COLUMNS["approximation"]), whole)


def measure(probe: dict, dictionary: dict, n_samples: int) -> tuple[dict[str, pd.DataFrame], dict[str, np.ndarray]]:
    """All tables and figure arrays of one model. Tables that do not apply (attention
    measurements of VED, alignment measurements of tasks without an alignment) are empty."""
    arch = str(probe["arch"])
    enc_h, dec_h = probe["enc_states"], probe["dec_states"]
    src_vocab, tgt_vocab = probe["src_vocab"], probe["tgt_vocab"]
    encoder, decoder = decompose_both(probe)
    tables = {name: pd.DataFrame(columns=cols) for name, cols in TABLE_COLUMNS.items()}
    arrays = {"arch": np.array(arch), "src_vocab": src_vocab, "tgt_vocab": tgt_vocab,
              **_side_arrays("enc", encoder), **_side_arrays("dec", decoder)}
    if "identity" in probe:
        arrays["identity"] = probe["identity"]

    tables["variance"] = pd.DataFrame(
        [{"side": side, "component": c, "fraction": f}
         for side, parts in (("encoder", encoder), ("decoder", decoder))
         for c, f in variance_fractions(parts).items()])
    tables["word_variance"] = pd.concat([word_variance("encoder", encoder, src_vocab),
                                         word_variance("decoder", decoder, tgt_vocab)], ignore_index=True)
    tables["accuracy_by_length"] = accuracy_by_length(probe["targets"], probe["predictions"], probe["enc_len"])
    k = min(n_samples, len(enc_h))
    samples = representative(probe["targets"], probe["predictions"], k)
    arrays["sample_index"] = samples  # which probed (test) sequences the samples are
    arrays.update({f"sample_{key}": probe[key][samples] for key in ("enc_tokens", "targets", "enc_len", "dec_len")})
    if arch == "ved":
        return tables, arrays

    A, align = probe["attention"], probe.get("align")
    shares, mu_scores, metrics, attn_arrays = breakdown(probe, encoder, decoder)
    metrics.update(attention_quality(A, decoder.mask, encoder.mask))
    tables["term_shares"], tables["approximation"], shares = head_tables(probe, encoder, decoder, shares, metrics)

    w_c = context_readout(probe["W_out"], arch, dec_h.shape[-1])
    tables["dictionary"] = dictionary_table(encoder.chi, encoder.word_count, probe["W_v"], w_c, src_vocab, tgt_vocab,
                                            dictionary)
    if align is not None:
        tables["alignment_offsets"] = offsets(A, align, decoder.mask, mu_scores, encoder.step_count > 0)
    tables["word_attention"] = word_attention(A, probe["enc_tokens"], decoder.mask, src_vocab)

    seq, pos = _sample_positions(encoder.mask, N_POINTS, seed=1)
    input_part = (enc_h[seq, pos] - encoder.mu[pos])       # χ + Δ at the sampled positions
    arrays.update(attn_arrays)
    arrays.update(
        sample_attention=A[samples], temporal_scores=mu_scores.astype(np.float32),
        term_share_by_step=shares["share_by_step"].astype(np.float32),
        term_signed_by_step=shares["signed_by_step"].astype(np.float32), term_names=np.array(att.TERMS),
        value_points=(input_part @ probe["W_v"]).astype(np.float32), value_tokens=encoder.tokens[seq, pos],
        readout_context=w_c.astype(np.float32),
    )
    return tables, arrays
