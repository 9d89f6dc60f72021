"""Attention measurements (docs/science.md §4.2–4.4): the nine-term score breakdown, the
average-attention approximation and temporal-only attention.

The score between decoder step t and encoder step s is q(h^D_t)·k(h^E_s)·scale with
q(h) = h W_q and k(h) = h W_k (no biases), so substituting h = μ + χ + Δ on both sides
splits it exactly into nine terms q(A^D_t)·k(B^E_s)·scale, A, B ∈ {μ, χ, Δ}.

Several heads and layers split (layer, head) by (layer, head), each a :class:`Unit`: head
h of layer l has its own score (x^l_t W_q^{l,h})·(h^E_s W_k^{l,h})·scale, where x^l is what
enters layer l's query projection (the decoder state, for a model of one layer), its own
attended position and its own nine terms, which sum to that unit's score. μ, χ and Δ are
properties of the states: the encoder's are shared by every unit, the query side's by the
heads of one layer. :func:`units` lists a probe's units and :func:`unit_breakdown` analyses
one. :func:`score_terms`, :func:`attended_terms`, :func:`temporal_scores` and
:func:`term_shares` also take stacked (H, n, d_h) matrices (and, for ``attended_terms``,
one attended position per head, (N, H, T)) and put a leading head axis on what they
return: entry h is what the single-head function gives for head h's matrices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .decompose import COMPONENTS, Decomposition

# Term "a·b": the decoder's component a against the encoder's component b.
TERMS = [f"{a}·{b}" for a in COMPONENTS for b in COMPONENTS]


def _stacked(w: np.ndarray) -> bool:
    """Whether ``w`` holds one matrix per head, (H, n, d_h), rather than one (n, d)."""
    if w.ndim not in (2, 3):
        raise ValueError(f"a query or key matrix is (n, d), or (heads, n, d_h) stacked; got shape {w.shape}")
    return w.ndim == 3


def score_terms(dec_parts: dict, enc_parts: dict, w_q: np.ndarray, w_k: np.ndarray, scale: float) -> np.ndarray:
    """(9, N, T, S): every term of the score at every (t, s), in the order of ``TERMS``
    (for tests and small inputs; the measurements need only :func:`attended_terms`).
    Stacked (H, n, d_h) matrices give (H, 9, N, T, S), head by head."""
    if _stacked(w_q):
        return np.stack([score_terms(dec_parts, enc_parts, wq, wk, scale) for wq, wk in zip(w_q, w_k)])
    q = {a: dec_parts[a] @ w_q for a in COMPONENTS}
    k = {b: np.swapaxes(enc_parts[b] @ w_k, 1, 2) for b in COMPONENTS}
    return np.stack([(q[a] @ k[b]) * scale for a in COMPONENTS for b in COMPONENTS])


def attended_terms(decoder, encoder, attended: np.ndarray, w_q, w_k, scale) -> np.ndarray:
    """(9, M): the nine terms at each valid decoder step (the M rows of ``decoder.rows``) and
    its attended encoder position s* = ``attended`` (N, T). Stacked (H, n, d_h) matrices
    take each head's own attended positions, ``attended`` (N, H, T) (the argmax of the
    probe's ``head_attention``), and give (H, 9, M).

    With G = W_q W_kᵀ·scale, term(a, b) = a G bᵀ. The four terms without Δ are looked up in
    small tables (position × position, position × word, ...); the full score h^D G h^E at
    s* and the dot products of h^D G with μ^E, χ^E (and of G μ^D, G χ^D with h^E) give the
    rest by subtraction, since Δ = h − μ − χ. So the only product of size M × n × n is
    h^D G, and Δ is never formed."""
    if _stacked(w_q):
        if attended.ndim != 3 or attended.shape[1] != len(w_q):
            raise ValueError(
                f"{len(w_q)} heads need an attended position per head, (N, heads, T); got shape {attended.shape}"
            )
        return np.stack(
            [attended_terms(decoder, encoder, attended[:, h], w_q[h], w_k[h], scale) for h in range(len(w_q))]
        )
    seq, pos = decoder.rows
    s_star = attended[decoder.mask]
    g = ((w_q @ w_k.T) * scale).astype(decoder.states.dtype)
    enc_cells = seq * encoder.mask.shape[1] + s_star  # the attended encoder positions
    dec_words, enc_words = decoder.flat_tokens, encoder.tokens.reshape(-1)[enc_cells]
    enc_h = np.take(encoder.states.reshape(-1, encoder.states.shape[-1]), enc_cells, axis=0)
    dec_hg = decoder.flat @ g
    n_pos, n_enc_pos = len(decoder.mu), len(encoder.mu)
    dec_basis = np.concatenate([decoder.mu, decoder.chi]) @ g  # μ^D G and χ^D G, one row each
    enc_basis = np.concatenate([encoder.mu, encoder.chi])
    dec_mu, dec_chi = pos, n_pos + dec_words  # rows of dec_basis
    enc_mu, enc_chi = s_star, n_enc_pos + enc_words  # rows of enc_basis

    if len(dec_basis) * len(enc_basis) <= MAX_PAIR_TABLE:  # one table of every a·b (as ever)
        mu_mu, mu_chi, chi_mu, chi_chi = _pair_dots(
            dec_basis, enc_basis, (dec_mu, enc_mu), (dec_mu, enc_chi), (dec_chi, enc_mu), (dec_chi, enc_chi)
        )
    else:  # a tokenizer's vocabulary: tables of positions against words, words against words by rows
        positions = dec_basis[:n_pos] @ enc_basis.T  # μ^D against every encoder row
        mu_mu, mu_chi = positions[dec_mu, enc_mu], positions[dec_mu, enc_chi]
        chi_mu = (dec_basis @ enc_basis[:n_enc_pos].T)[dec_chi, enc_mu]
        (chi_chi,) = _pair_dots(dec_basis, enc_basis, (dec_chi, enc_chi))
    h_mu, h_chi = _row_dots(dec_hg, enc_basis, enc_mu, enc_chi)  # h^D G μ^E, h^D G χ^E
    mu_h, chi_h = _row_dots(enc_h, dec_basis, dec_mu, dec_chi)  # μ^D G h^E, χ^D G h^E
    score = np.einsum("md,md->m", dec_hg, enc_h)  # h^D G h^E

    delta_mu, delta_chi = h_mu - mu_mu - chi_mu, h_chi - mu_chi - chi_chi
    mu_delta, chi_delta = mu_h - mu_mu - mu_chi, chi_h - chi_mu - chi_chi
    delta_delta = score - h_mu - h_chi - mu_delta - chi_delta
    return np.stack([mu_mu, mu_chi, mu_delta, chi_mu, chi_chi, chi_delta, delta_mu, delta_chi, delta_delta])


# The largest table of a·b products (position or word, both sides) built at once: 2^24
# entries, 128 MiB. A model's vocabulary of tens of thousands of words on each side (a
# Hugging Face tokenizer's) would ask for tens of GiB; its products are then taken row by
# row, only for the pairs the probe holds.
MAX_PAIR_TABLE = 1 << 24


def _pair_dots(a: np.ndarray, b: np.ndarray, *pairs: tuple[np.ndarray, np.ndarray]) -> list[np.ndarray]:
    """For each (i, j) index pair: a[i[m]] · b[j[m]] for every m. Through the table a @ bᵀ
    when it is small (:data:`MAX_PAIR_TABLE`), else by gathering rows (no V × V product)."""
    if len(a) * len(b) <= MAX_PAIR_TABLE:
        table = a @ b.T
        return [table[i, j] for i, j in pairs]
    return [np.einsum("md,md->m", a[i], b[j]) for i, j in pairs]


def _row_dots(x: np.ndarray, basis: np.ndarray, *indices: np.ndarray) -> list[np.ndarray]:
    """For each index array: x[m] · basis[index[m]] for every row m. Through one product
    x @ basisᵀ when the basis is small, else by gathering basis rows (a translation
    vocabulary)."""
    if len(basis) <= 256:
        dots, rows = x @ basis.T, np.arange(len(x))
        return [dots[rows, index] for index in indices]
    return [np.einsum("md,md->m", x, basis[index]) for index in indices]


def term_shares(terms: np.ndarray, pos: np.ndarray, width: int) -> dict[str, np.ndarray]:
    """Each term's share |term| / Σ|terms| and its signed value at the attended position,
    averaged per decoder step (``*_by_step``, (T, 9)) and over every valid step (9,).
    ``terms`` is (9, M), ``pos`` the decoder step of each of the M rows. Terms of H heads,
    (H, 9, M), give every entry a leading head axis except ``step_count`` (T,), the same
    for every head."""
    if terms.ndim == 3:
        heads = [term_shares(head, pos, width) for head in terms]
        out = {key: np.stack([h[key] for h in heads]) for key in heads[0] if key != "step_count"}
        return {**out, "step_count": heads[0]["step_count"]}
    total = np.abs(terms).sum(0)
    share = np.abs(terms) / np.where(total > 0, total, 1.0)
    count = np.bincount(pos, minlength=width)
    denom = np.maximum(count, 1)[:, None]
    by_step = lambda x: np.stack([np.bincount(pos, weights=row, minlength=width) for row in x], 1) / denom  # noqa: E731
    return {
        "share_by_step": by_step(share),
        "signed_by_step": by_step(terms),
        "share": share.mean(1),
        "signed": terms.mean(1),
        "step_count": count,
    }


def mean_attention(attention: np.ndarray, dec_mask: np.ndarray) -> np.ndarray:
    """Ā (T, S): the mean attention matrix, sequences aligned at position 0, each row
    averaged over the sequences valid at that decoder step (attention is 0 at padded
    decoder steps, as the probe stores it)."""
    return attention.sum(0) / np.maximum(dec_mask.sum(0), 1)[:, None]


def temporal_scores(
    mu_dec: np.ndarray, mu_enc: np.ndarray, w_q: np.ndarray, w_k: np.ndarray, scale: float
) -> np.ndarray:
    """(T, S): the μ·μ score q(μ^D_t)·k(μ^E_s)·scale alone; (H, T, S) for stacked
    (H, n, d_h) matrices."""
    return (mu_dec @ w_q) @ np.swapaxes(mu_enc @ w_k, -1, -2) * scale


def masked_softmax(scores: np.ndarray, mask: np.ndarray) -> np.ndarray:
    z = np.where(mask, scores, -np.inf)
    z = np.exp(z - z.max(-1, keepdims=True))
    return z / z.sum(-1, keepdims=True)


def by_length(rows: np.ndarray, softmax: bool = False, lengths: np.ndarray | None = None) -> np.ndarray:
    """(S + 1, T, S): ``rows`` (T, S) restricted to the first ℓ encoder positions for each
    length ℓ and renormalised (``softmax``: a softmax over them), 0 beyond ℓ. An example
    with ℓ valid encoder positions is compared with entry ℓ. Given ``lengths``, only those
    entries, (len(lengths), T, S), in that order: memory bounded by the lengths present
    rather than every length up to S (each entry is computed on its own, so the values are
    the same either way)."""
    width = rows.shape[1]
    ells = np.arange(width + 1) if lengths is None else np.asarray(lengths)
    valid = np.arange(width)[None, None, :] < ells[:, None, None]
    if softmax:  # ℓ = 0 (no positions) stays 0
        out = np.zeros(valid.shape[:1] + rows.shape, dtype=np.float64)
        some = ells > 0
        out[some] = masked_softmax(np.broadcast_to(rows, out[some].shape), valid[some])
        return out
    out = rows[None] * valid
    return out / np.maximum(out.sum(-1, keepdims=True), 1e-12)


def approximation(attention, dec_mask, enc_mask, mu_scores, align=None, attended=None) -> tuple[dict[str, float], dict]:
    """How well the mean attention Ā, and the temporal-only attention softmax(μ·μ), stand
    in for each example's attention (docs/science.md §4.3–4.4). Each example's row is compared
    with Ā restricted to its valid encoder positions and renormalised; the temporal-only
    attention is a softmax over the same positions. Both depend on the example only
    through its encoder length ℓ (masks are prefixes), so they are tabulated per ℓ and
    only the example-against-Ā distance passes over the whole attention tensor.
    ``attended`` (N, T) is the argmax of ``attention``, if already known."""
    attended = attention.argmax(-1) if attended is None else attended
    # tabulated for the encoder lengths present only (index: the length's rank among them)
    lengths, enc_len = np.unique(enc_mask.sum(1), return_inverse=True)
    a_bar = mean_attention(attention, dec_mask)
    a_bar_by_len, temporal_by_len = by_length(a_bar, lengths=lengths), by_length(mu_scores, True, lengths)
    t_idx = np.arange(dec_mask.shape[1])[None, :]
    a_bar_argmax = a_bar_by_len.argmax(-1)[enc_len[:, None], t_idx]  # (N, T)
    temporal_argmax = temporal_by_len.argmax(-1)[enc_len[:, None], t_idx]
    tv = 0.5 * np.abs(attention - a_bar_by_len.astype(attention.dtype)[enc_len]).sum(-1)
    temporal_tv = 0.5 * np.abs(temporal_by_len - a_bar_by_len).sum(-1)[enc_len[:, None], t_idx]
    mean = lambda x: float(x[dec_mask].mean())  # noqa: E731  over valid decoder steps
    metrics = {
        "argmax_agreement": mean(attended == a_bar_argmax),
        "tv_distance": mean(tv),
        "temporal_argmax_agreement": mean(temporal_argmax == a_bar_argmax),
        "temporal_tv_distance": mean(temporal_tv),
        "temporal_example_agreement": mean(temporal_argmax == attended),
    }
    if align is not None:
        known = dec_mask & (align >= 0)
        metrics["alignment_agreement"] = float((attended == align)[known].mean())
    occupied = enc_mask.any(0)
    arrays = {
        "mean_attention": a_bar,
        "temporal_attention": masked_softmax(mu_scores, np.broadcast_to(occupied, mu_scores.shape)),
    }
    return metrics, arrays


# ---------------------------------------------------------------------------- (layer, head) units


@dataclass
class Unit:
    """One (layer, head) of a model's attention: the decomposition of the states its
    queries read (the decoder's, or those entering layer ``layer`` of a Transformer), its
    query and key matrices in kernel orientation, and its weights (N, T, S). Its keys read
    the encoder states."""

    layer: int
    head: int
    queries: Decomposition
    w_q: np.ndarray
    w_k: np.ndarray
    attention: np.ndarray


def units(probe: dict, decoder: Decomposition, decompose_queries) -> list[Unit]:
    """Every (layer, head) of an attention probe, in the form it was recorded
    (``attend.probe``): one head; several heads of one layer; several layers.
    ``decompose_queries(states)`` decomposes a layer's query-side states (N, T, n_q)."""
    if "layer_attention" in probe:
        out = []
        for layer in range(probe["layer_attention"].shape[1]):
            queries = decompose_queries(probe["layer_states"][:, layer])
            out += [
                Unit(
                    layer,
                    head,
                    queries,
                    probe["layer_W_q"][layer, head],
                    probe["layer_W_k"][layer, head],
                    probe["layer_attention"][:, layer, head],
                )
                for head in range(probe["layer_attention"].shape[2])
            ]
        return out
    if "head_attention" in probe:
        return [
            Unit(0, h, decoder, probe["head_W_q"][h], probe["head_W_k"][h], probe["head_attention"][:, h])
            for h in range(probe["head_attention"].shape[1])
        ]
    return [Unit(0, 0, decoder, probe["W_q"], probe["W_k"], probe["attention"])]


def one_layer_at_a_time(units: list[Unit]):
    """The units in order, each layer's query-side copies released (:meth:`Decomposition.release`)
    once its last head is yielded: a Transformer's layers hold their copies one at a time."""
    for unit, following in zip(units, [*units[1:], None]):
        yield unit
        if following is None or following.queries is not unit.queries:
            unit.queries.release()


def unit_breakdown(unit: Unit, encoder: Decomposition, scale: float, align=None) -> dict:
    """The score breakdown (§4.2) and the average- and temporal-only approximations
    (§4.3–4.4) of one unit, on its own: its attended positions s* (the argmax of its own
    weights), its nine terms there (:func:`term_shares`), its μ·μ score (T, S), the
    :func:`approximation` metrics and arrays (its own Ā and temporal-only attention)."""
    queries = unit.queries
    attended = unit.attention.argmax(-1)
    terms = attended_terms(queries, encoder, attended, unit.w_q, unit.w_k, scale)
    shares = term_shares(terms, queries.rows[1], queries.mask.shape[1])
    mu_scores = temporal_scores(queries.mu, encoder.mu, unit.w_q, unit.w_k, scale)
    metrics, arrays = approximation(unit.attention, queries.mask, encoder.mask, mu_scores, align, attended)
    return {
        "shares": shares,
        "mu_scores": mu_scores,
        "metrics": metrics,
        "attended": attended,
        "terms_error": terms_error(terms, unit, encoder, attended, scale),
        **arrays,
    }


def terms_error(terms: np.ndarray, unit: Unit, encoder: Decomposition, attended: np.ndarray, scale: float) -> float:
    """How far the nine terms (9, M) are from adding up to the unit's own score at its
    attended positions, computed directly in float64, relative to the largest score: ~1e-6
    for a model's states, but 1 when the states' scale takes the float32 products out of
    range (states x1e30 with W_q, W_k /1e30 make W_q W_kᵀ underflow to 0)."""
    seq = unit.queries.rows[0]
    keys = encoder.states[seq, attended[unit.queries.mask]].astype(np.float64) @ unit.w_k
    exact = np.einsum("md,md->m", unit.queries.flat64 @ unit.w_q, keys) * scale
    largest = np.abs(exact).max(initial=0.0)
    if not np.isfinite(largest) or not np.isfinite(terms).all():
        return float("inf")
    return float(np.abs(terms.sum(0) - exact).max(initial=0.0) / largest) if largest > 0 else 0.0
