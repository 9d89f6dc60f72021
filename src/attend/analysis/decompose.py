"""h = μ_t + χ(w) + Δ (PAPER.md §4.1), vectorised over every sequence at once.

States are (N, L, n) arrays, zero at padding; ``tokens`` (N, L) says which word sits at
each position (for the decoder: its *input* token) and ``lengths`` (N,) how many positions
are valid (the end-of-sequence position counts, padding after it does not).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

COMPONENTS = ("mu", "chi", "delta")


def valid_mask(lengths: np.ndarray, width: int) -> np.ndarray:
    """(N, width) bool: position < length."""
    return np.arange(width)[None, :] < np.asarray(lengths)[:, None]


def group_sums(values: np.ndarray, groups: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-group sums of the rows of ``values`` (M, k) and the group sizes, by one sort and
    ``np.add.reduceat`` (no Python loop, no dense one-hot)."""
    order = np.argsort(groups, kind="stable")
    g = groups[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]]) if len(g) else np.array([], dtype=int)
    sums = np.zeros((n_groups,) + values.shape[1:], dtype=np.float64)
    counts = np.zeros(n_groups, dtype=np.int64)
    if len(g):
        sums[g[starts]] = np.add.reduceat(values[order].astype(np.float64), starts, axis=0)
        counts[g[starts]] = np.diff(np.r_[starts, len(g)])
    return sums, counts


@dataclass
class Decomposition:
    """One side (encoder or decoder) of a model over a set of sequences."""

    mu: np.ndarray          # (L, n)  temporal component per position
    chi: np.ndarray         # (V, n)  input component per token (0 where a token never occurs)
    step_count: np.ndarray  # (L,)    valid sequences at each position
    word_count: np.ndarray  # (V,)    valid occurrences of each token
    mask: np.ndarray        # (N, L)  valid positions
    tokens: np.ndarray      # (N, L)

    def parts(self, states: np.ndarray) -> dict[str, np.ndarray]:
        """The three (N, L, n) components of ``states``, each zero at padding; they sum to
        ``states`` exactly at valid positions."""
        m = self.mask[..., None]
        mu = np.where(m, self.mu[None], 0.0).astype(np.float32)
        chi = np.where(m, self.chi[self.tokens], 0.0).astype(np.float32)
        return {"mu": mu, "chi": chi, "delta": np.where(m, states - mu - chi, 0.0).astype(np.float32)}


def decompose(states: np.ndarray, tokens: np.ndarray, lengths: np.ndarray, vocab_size: int) -> Decomposition:
    """μ_t: mean state at position t over the sequences valid there; χ(w): mean of h − μ_t
    over every valid occurrence of token w at any position."""
    n_seq, width, _ = states.shape
    mask = valid_mask(lengths, width)
    step_count = mask.sum(0)
    mu = (states * mask[..., None]).sum(0, dtype=np.float64) / np.maximum(step_count, 1)[:, None]
    resid = (states - mu[None])[mask]
    sums, word_count = group_sums(resid, tokens[mask], vocab_size)
    chi = sums / np.maximum(word_count, 1)[:, None]
    return Decomposition(mu=mu.astype(np.float32), chi=chi.astype(np.float32), step_count=step_count,
                         word_count=word_count, mask=mask, tokens=tokens)


def variance_fractions(states: np.ndarray, dec: Decomposition) -> dict[str, float]:
    """Fraction of the states' total variance (sum of squared deviations from their mean,
    over valid positions) that each component carries. The three sum to one (``sum``, kept
    as a check): the residual h − μ_t averages to zero at every position, and Δ to zero over
    every word's occurrences, so the cross terms vanish."""

    def total_ss(x):
        v = x[dec.mask].astype(np.float64)
        return float(((v - v.mean(0)) ** 2).sum())

    total = total_ss(states)
    out = {name: total_ss(part) / total for name, part in dec.parts(states).items()}
    out["sum"] = sum(out[c] for c in COMPONENTS)
    return out
