"""The analysis as functions, for people who already hold the arrays of an
encoder-decoder model (docs/analyse.md). numpy only: no TensorFlow, Keras or torch.

Every array is named by its dimensions, TransformerLens-style (the aliases below):
``batch`` sequences, ``src_pos`` source and ``tgt_pos`` target positions (aligned at 0,
padded on the right), ``d_enc``/``d_dec`` the widths of the encoder and decoder states,
``d_head`` the width of a head's queries and keys, ``vocab`` a vocabulary's size.

Conventions (those of the probe format, docs/probe-format.md): a sequence's valid
positions are its first ``src_len``/``tgt_len`` ones, its final ``</s>`` included, and
padding is never read; the decoder's tokens are its *inputs* (``<s>``, then the previous
target word), since that is the word its state at each step has read. An attention score
is ``(dec_states @ W_q) · (enc_states @ W_k) × scale``: fold any biases in first
(:func:`fold_bias`).

The decomposition h = μ_t + χ(w) + Δ (:func:`decompose`) splits every score into nine
terms (:func:`score_terms`, :func:`term_shares`); :func:`mean_attention`,
:func:`temporal_attention` and :func:`approximation` say how well the mean attention Ā
and the temporal components alone stand in for each example's attention. For everything
at once, write a probe (:func:`make_probe`) and :func:`analyse` it, or run
``attend analyse PROBE.npz --out DIR``.

These are thin, documented entry points over ``attend.analysis`` (the code the pipeline
itself runs), so their numbers are the pipeline's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import numpy as np

from . import probe as probe_format
from .analysis import attention as _attention
from .analysis.decompose import Decomposition, variance_fractions
from .analysis.decompose import decompose as _decompose
from .analysis.measure import measure
from .config_schema import written_default
from .tokens import PAD

# ---------------------------------------------------------------------------- the shapes

EncStates = Annotated[np.ndarray, "batch src_pos d_enc"]
DecStates = Annotated[np.ndarray, "batch tgt_pos d_dec"]
States = Annotated[np.ndarray, "batch pos d_model"]  # either side
SrcTokens = Annotated[np.ndarray, "batch src_pos"]
TgtTokens = Annotated[np.ndarray, "batch tgt_pos"]
Tokens = Annotated[np.ndarray, "batch pos"]
Lengths = Annotated[np.ndarray, "batch"]
QueryMatrix = Annotated[np.ndarray, "d_dec d_head"]
KeyMatrix = Annotated[np.ndarray, "d_enc d_head"]
Attention = Annotated[np.ndarray, "batch tgt_pos src_pos"]
Scores = Annotated[np.ndarray, "batch tgt_pos src_pos"]
Terms = Annotated[np.ndarray, "term batch tgt_pos src_pos"]  # term: the nine of TERMS
MeanAttention = Annotated[np.ndarray, "tgt_pos src_pos"]

TERMS = tuple(_attention.TERMS)  # "mu·mu", "mu·chi", ... "delta·delta": decoder component · encoder component


@dataclass(frozen=True)
class Components:
    """h = μ_t + χ(w) + Δ for one side, over a set of sequences.

    ``mu`` [pos d_model]: the mean state at each position over the sequences valid there;
    ``chi`` [vocab d_model]: the mean of h − μ_t over every occurrence of each word (0 for
    a word that never occurs); ``delta`` [batch pos d_model]: what is left, 0 at padding;
    ``variance``: the fraction of the states' variance each component carries ("mu",
    "chi", "delta"; they sum to 1). ``decomposition`` is the underlying
    :class:`attend.analysis.decompose.Decomposition`, which the other functions accept."""

    mu: Annotated[np.ndarray, "pos d_model"]
    chi: Annotated[np.ndarray, "vocab d_model"]
    delta: States
    variance: dict[str, float]
    decomposition: Decomposition


def _vocab_size(tokens: np.ndarray, vocab_size: int | None) -> int:
    largest = int(tokens.max(initial=PAD)) + 1
    if vocab_size is not None and vocab_size < largest:
        raise ValueError(f"vocab_size {vocab_size} is smaller than the largest token id + 1 ({largest})")
    return largest if vocab_size is None else vocab_size


def _check(states: np.ndarray, tokens: np.ndarray, lengths: np.ndarray, what: str) -> None:
    if states.ndim != 3 or tokens.shape != states.shape[:2] or lengths.shape != states.shape[:1]:
        raise ValueError(
            f"{what}: states [batch pos d_model], tokens [batch pos] and lengths [batch] must agree; "
            f"got {states.shape}, {tokens.shape}, {lengths.shape}"
        )
    if lengths.size and (lengths.min() < 1 or lengths.max() > states.shape[1]):
        raise ValueError(f"{what}: lengths must lie in 1..{states.shape[1]}, found {lengths.min()}..{lengths.max()}")


def decompose(states: States, tokens: Tokens, lengths: Lengths, vocab_size: int | None = None) -> Components:
    """Split every valid state into μ_t + χ(w) + Δ (docs/science.md §4.1). ``vocab_size``
    defaults to the largest token id + 1."""
    states, tokens, lengths = np.asarray(states), np.asarray(tokens), np.asarray(lengths)
    _check(states, tokens, lengths, "decompose")
    parts = _decompose(states, tokens, lengths, _vocab_size(tokens, vocab_size))
    fractions = variance_fractions(parts)
    return Components(
        mu=parts.mu,
        chi=parts.chi,
        delta=parts.parts(states)["delta"],
        variance={k: fractions[k] for k in ("mu", "chi", "delta")},
        decomposition=parts,
    )


def _sides(dec_states, dec_tokens, dec_len, enc_states, enc_tokens, enc_len):
    decoder = decompose(dec_states, dec_tokens, dec_len).decomposition
    encoder = decompose(enc_states, enc_tokens, enc_len).decomposition
    if len(decoder.mask) != len(encoder.mask):
        raise ValueError(f"the decoder's batch ({len(decoder.mask)}) and the encoder's ({len(encoder.mask)}) differ")
    return decoder, encoder


def fold_bias(
    states: States,
    lengths: Lengths,
    weights: Annotated[np.ndarray, "d_model d_head"],
    bias: Annotated[np.ndarray, "d_head"],
) -> tuple[States, Annotated[np.ndarray, "d_model+1 d_head"]]:
    """A projection with a bias, ``states @ weights + bias``, as one without: the states
    with a constant 1 appended at the valid positions (0 at padding) and the bias as the
    last row of the matrix. The product is unchanged at every valid position; the constant
    lands in μ (its χ and Δ are 0), so a bias adds to the terms with μ only."""
    states = np.asarray(states)
    valid = np.arange(states.shape[1])[None] < np.asarray(lengths)[:, None]
    ones = valid[..., None].astype(states.dtype)
    return np.concatenate([states, ones], -1), np.concatenate([weights, np.asarray(bias, weights.dtype)[None]], 0)


def scores(dec_states: DecStates, enc_states: EncStates, W_q: QueryMatrix, W_k: KeyMatrix, scale: float) -> Scores:
    """The pre-softmax scores (dec_states @ W_q)·(enc_states @ W_k) × scale."""
    return (dec_states @ W_q) @ np.swapaxes(enc_states @ W_k, 1, 2) * scale


def score_terms(
    dec_states: DecStates,
    dec_tokens: TgtTokens,
    dec_len: Lengths,
    enc_states: EncStates,
    enc_tokens: SrcTokens,
    enc_len: Lengths,
    W_q: QueryMatrix,
    W_k: KeyMatrix,
    scale: float,
) -> Terms:
    """The nine terms of every score, in the order of :data:`TERMS`: term (a, b) is
    q(a^D_t)·k(b^E_s)·scale for the decoder's component a and the encoder's b. They sum
    to :func:`scores` at every valid (t, s) (0 elsewhere). Memory grows as 9 × batch ×
    tgt_pos × src_pos; for large sets use :func:`term_shares`, which evaluates the terms
    at the attended positions only."""
    decoder, encoder = _sides(dec_states, dec_tokens, dec_len, enc_states, enc_tokens, enc_len)
    return _attention.score_terms(
        decoder.parts(decoder.states), encoder.parts(encoder.states), np.asarray(W_q), np.asarray(W_k), scale
    )


def term_shares(
    dec_states: DecStates,
    dec_tokens: TgtTokens,
    dec_len: Lengths,
    enc_states: EncStates,
    enc_tokens: SrcTokens,
    enc_len: Lengths,
    W_q: QueryMatrix,
    W_k: KeyMatrix,
    scale: float,
    attention: Attention,
) -> dict[str, np.ndarray]:
    """Each term's share of the score where the model attends (docs/science.md §4.2): at every
    valid decoder step, the nine terms at its attended source position (the argmax of
    ``attention``), |term| / Σ|terms|. Returns ``share`` [term] and ``signed`` [term]
    (the mean over every valid step), ``share_by_step`` and ``signed_by_step``
    [tgt_pos term] (the mean at each step), ``step_count`` [tgt_pos]."""
    decoder, encoder = _sides(dec_states, dec_tokens, dec_len, enc_states, enc_tokens, enc_len)
    attended = np.asarray(attention).argmax(-1)
    terms = _attention.attended_terms(decoder, encoder, attended, np.asarray(W_q), np.asarray(W_k), scale)
    return _attention.term_shares(terms, decoder.rows[1], decoder.mask.shape[1])


def mean_attention(attention: Attention, dec_len: Lengths) -> MeanAttention:
    """Ā: the mean attention matrix, sequences aligned at position 0, each row averaged
    over the sequences valid at that step (``attention`` is 0 at padded steps)."""
    attention = np.asarray(attention)
    mask = np.arange(attention.shape[1])[None] < np.asarray(dec_len)[:, None]
    return _attention.mean_attention(attention * mask[..., None], mask)


def temporal_scores(
    dec_mu: Annotated[np.ndarray, "tgt_pos d_dec"],
    enc_mu: Annotated[np.ndarray, "src_pos d_enc"],
    W_q: QueryMatrix,
    W_k: KeyMatrix,
    scale: float,
) -> Annotated[np.ndarray, "tgt_pos src_pos"]:
    """The μ·μ score alone, q(μ^D_t)·k(μ^E_s)·scale (μ from :func:`decompose`)."""
    return _attention.temporal_scores(np.asarray(dec_mu), np.asarray(enc_mu), np.asarray(W_q), np.asarray(W_k), scale)


def temporal_attention(
    dec_mu: Annotated[np.ndarray, "tgt_pos d_dec"],
    enc_mu: Annotated[np.ndarray, "src_pos d_enc"],
    W_q: QueryMatrix,
    W_k: KeyMatrix,
    scale: float,
    src_positions: int | None = None,
) -> MeanAttention:
    """softmax_s of the μ·μ score: the attention the temporal components alone would
    give, over the first ``src_positions`` source positions (default: all; pass the
    longest source length, max(enc_len), when μ has rows no sequence reaches)."""
    mu_scores = temporal_scores(dec_mu, enc_mu, W_q, W_k, scale)
    reached = np.arange(mu_scores.shape[1]) < (mu_scores.shape[1] if src_positions is None else src_positions)
    return _attention.masked_softmax(mu_scores, np.broadcast_to(reached, mu_scores.shape))


def approximation(
    attention: Attention,
    dec_len: Lengths,
    enc_len: Lengths,
    mu_scores: Annotated[np.ndarray, "tgt_pos src_pos"] | None = None,
    align: Annotated[np.ndarray, "batch tgt_pos"] | None = None,
) -> dict[str, float]:
    """How well Ā stands in for each example's attention (docs/science.md §4.3), over the valid
    decoder steps: ``argmax_agreement`` (the example attends where Ā, restricted to its
    source length and renormalised, peaks) and ``tv_distance``. With the μ·μ scores
    (:func:`temporal_scores`), also how well the temporal-only attention stands in for Ā
    and for the examples (``temporal_*``); with an alignment [batch tgt_pos] (the source
    position behind each target, -1 where none), ``alignment_agreement``."""
    attention = np.asarray(attention)
    _n, width_t, width_s = attention.shape
    dec_mask = np.arange(width_t)[None] < np.asarray(dec_len)[:, None]
    enc_mask = np.arange(width_s)[None] < np.asarray(enc_len)[:, None]
    attention = attention * dec_mask[..., None]
    keep = mu_scores is not None
    mu_scores = np.zeros((width_t, width_s)) if mu_scores is None else np.asarray(mu_scores)
    metrics, _ = _attention.approximation(attention, dec_mask, enc_mask, mu_scores, align)
    return {k: v for k, v in metrics.items() if keep or not k.startswith("temporal")}


# ---------------------------------------------------------------------------- everything at once


def make_probe(
    *,
    enc_states: EncStates,
    dec_states: DecStates,
    enc_tokens: SrcTokens,
    dec_inputs: TgtTokens,
    src_vocab: list[str],
    tgt_vocab: list[str],
    enc_len: Lengths | None = None,
    dec_len: Lengths | None = None,
    attention: Attention | None = None,
    W_q: QueryMatrix | None = None,
    W_k: KeyMatrix | None = None,
    scale: float | None = None,
    **optional,
) -> dict[str, np.ndarray]:
    """A probe (docs/probe-format.md) of one-head attention from arrays, checked
    (:func:`attend.probe.validate`). Other forms and optional keys (``targets``,
    ``predictions``, ``align``, ``W_v``, ``W_c``, ``head_*``, ``layer_*``, ``arch``,
    ``identity``...) go in ``optional`` by their probe names. The lengths default to the
    number of ids that are not ``<pad>`` (0); padding is set to 0 (the token ids too), and
    ``attention``, when the ``head_*`` or ``layer_*`` weights are given without it, is their
    uniform mean (:func:`attend.probe.assemble`). Save it with :func:`attend.probe.save`."""
    return probe_format.assemble(
        {
            "enc_states": enc_states,
            "dec_states": dec_states,
            "enc_tokens": enc_tokens,
            "dec_inputs": dec_inputs,
            "enc_len": enc_len,
            "dec_len": dec_len,
            "src_vocab": src_vocab,
            "tgt_vocab": tgt_vocab,
            "attention": attention,
            "W_q": W_q,
            "W_k": W_k,
            "scale": scale,
            **optional,
        },
        "make_probe",
    )


def analyse(probe: dict, dictionary: dict | None = None, n_samples: int | None = None):
    """Every measurement a probe's keys allow (:func:`attend.analysis.measure.measure`):
    (tables, the figures' arrays, skipped), where ``skipped`` says why each measurement
    not made was skipped. ``dictionary`` maps source words to their translations."""
    return measure(probe, dictionary or {}, written_default("analysis.n_samples") if n_samples is None else n_samples)


__all__ = [
    "TERMS",
    "Attention",
    "Components",
    "DecStates",
    "EncStates",
    "KeyMatrix",
    "Lengths",
    "MeanAttention",
    "QueryMatrix",
    "Scores",
    "SrcTokens",
    "States",
    "Terms",
    "TgtTokens",
    "Tokens",
    "analyse",
    "approximation",
    "decompose",
    "fold_bias",
    "make_probe",
    "mean_attention",
    "score_terms",
    "scores",
    "temporal_attention",
    "temporal_scores",
    "term_shares",
]
