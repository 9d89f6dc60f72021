"""Attention measurements (PAPER.md §4.2–4.4): the nine-term score breakdown, the
average-attention approximation and temporal-only attention.

The score between decoder step t and encoder step s is q(h^D_t)·k(h^E_s)·scale with
q(h) = h W_q and k(h) = h W_k (no biases), so substituting h = μ + χ + Δ on both sides
splits it exactly into nine terms q(A^D_t)·k(B^E_s)·scale, A, B ∈ {μ, χ, Δ}.
"""

from __future__ import annotations

import numpy as np

from .decompose import COMPONENTS

# Term "a·b": the decoder's component a against the encoder's component b.
TERMS = [f"{a}·{b}" for a in COMPONENTS for b in COMPONENTS]


def score_terms(dec_parts: dict, enc_parts: dict, w_q: np.ndarray, w_k: np.ndarray, scale: float) -> np.ndarray:
    """(9, N, T, S): every term of the score at every (t, s), in the order of ``TERMS``
    (for tests and small inputs; the measurements need only :func:`attended_terms`)."""
    q = {a: dec_parts[a] @ w_q for a in COMPONENTS}
    k = {b: np.swapaxes(enc_parts[b] @ w_k, 1, 2) for b in COMPONENTS}
    return np.stack([(q[a] @ k[b]) * scale for a in COMPONENTS for b in COMPONENTS])


def attended_terms(dec, enc, dec_states, enc_states, attention, w_q, w_k, scale) -> np.ndarray:
    """(9, M): the nine terms at each valid decoder step (the M rows of ``dec.rows``) and
    its attended encoder position s*. With G = W_q W_kᵀ·scale, term(a, b) = a G bᵀ, so the
    only large product is the decoder states times G; μ and χ are projected once per
    position and per word, then looked up."""
    seq, pos = dec.rows
    s_star = attention[seq, pos].argmax(-1)
    g = (w_q @ w_k.T) * scale
    dec_tokens = dec.tokens[seq, pos]
    q_mu, q_chi = (dec.mu @ g)[pos], (dec.chi @ g)[dec_tokens]
    q = {"mu": q_mu, "chi": q_chi, "delta": dec_states[seq, pos] @ g - q_mu - q_chi}
    e_mu, e_chi = enc.mu[s_star], enc.chi[enc.tokens[seq, s_star]]
    e = {"mu": e_mu, "chi": e_chi, "delta": enc_states[seq, s_star] - e_mu - e_chi}
    return np.stack([np.einsum("md,md->m", q[a], e[b]) for a in COMPONENTS for b in COMPONENTS])


def term_shares(terms: np.ndarray, pos: np.ndarray, width: int) -> dict[str, np.ndarray]:
    """Each term's share |term| / Σ|terms| and its signed value at the attended position,
    averaged per decoder step (``*_by_step``, (T, 9)) and over every valid step (9,).
    ``terms`` is (9, M), ``pos`` the decoder step of each of the M rows."""
    total = np.abs(terms).sum(0)
    share = np.abs(terms) / np.where(total > 0, total, 1.0)
    count = np.bincount(pos, minlength=width)
    denom = np.maximum(count, 1)[:, None]
    by_step = lambda x: np.stack([np.bincount(pos, weights=row, minlength=width) for row in x], 1) / denom  # noqa: E731
    return {
        "share_by_step": by_step(share), "signed_by_step": by_step(terms),
        "share": share.mean(1), "signed": terms.mean(1), "step_count": count,
    }


def mean_attention(attention: np.ndarray, dec_mask: np.ndarray) -> np.ndarray:
    """Ā (T, S): the mean attention matrix, sequences aligned at position 0, each row
    averaged over the sequences valid at that decoder step."""
    return attention.sum(0) / np.maximum(dec_mask.sum(0), 1)[:, None]


def _restrict(rows: np.ndarray, enc_mask: np.ndarray) -> np.ndarray:
    """Broadcast (T, S) rows to every sequence (N, T, S), zero at its padding, renormalised."""
    r = rows[None] * enc_mask[:, None, :]
    return r / np.maximum(r.sum(-1, keepdims=True), 1e-12)


def compare(attention: np.ndarray, reference: np.ndarray, dec_mask: np.ndarray) -> dict[str, float]:
    """Argmax agreement and mean total-variation distance between each valid row of
    ``attention`` and of ``reference`` (both (N, T, S))."""
    agree = attention.argmax(-1) == reference.argmax(-1)
    tv = 0.5 * np.abs(attention - reference).sum(-1)
    return {"argmax": float(agree[dec_mask].mean()), "tv": float(tv[dec_mask].mean())}


def temporal_scores(mu_dec: np.ndarray, mu_enc: np.ndarray, w_q: np.ndarray, w_k: np.ndarray, scale: float) -> np.ndarray:
    """(T, S): the μ·μ score q(μ^D_t)·k(μ^E_s)·scale alone."""
    return (mu_dec @ w_q) @ (mu_enc @ w_k).T * scale


def masked_softmax(scores: np.ndarray, mask: np.ndarray) -> np.ndarray:
    z = np.where(mask, scores, -np.inf)
    z = np.exp(z - z.max(-1, keepdims=True))
    return z / z.sum(-1, keepdims=True)


def approximation(attention, dec_mask, enc_mask, mu_scores, align=None) -> tuple[dict[str, float], dict]:
    """How well the mean attention Ā, and the temporal-only attention softmax(μ·μ),
    stand in for each example's attention (PAPER.md §4.3–4.4)."""
    a_bar = mean_attention(attention, dec_mask)
    a_bar_n = _restrict(a_bar, enc_mask)
    temporal_n = masked_softmax(np.broadcast_to(mu_scores, attention.shape), enc_mask[:, None, :])
    vs_mean = compare(attention, a_bar_n, dec_mask)
    temporal_vs_mean = compare(temporal_n, a_bar_n, dec_mask)
    temporal_vs_example = compare(temporal_n, attention, dec_mask)
    metrics = {
        "argmax_agreement": vs_mean["argmax"],
        "tv_distance": vs_mean["tv"],
        "temporal_argmax_agreement": temporal_vs_mean["argmax"],
        "temporal_tv_distance": temporal_vs_mean["tv"],
        "temporal_example_agreement": temporal_vs_example["argmax"],
    }
    if align is not None:
        known = dec_mask & (align >= 0)
        metrics["alignment_agreement"] = float((attention.argmax(-1) == align)[known].mean())
    occupied = enc_mask.any(0)
    arrays = {"mean_attention": a_bar,
              "temporal_attention": masked_softmax(mu_scores, np.broadcast_to(occupied, mu_scores.shape))}
    return metrics, arrays
