"""h = μ_t + χ(w) + Δ (PAPER.md §4.1), vectorised over every sequence at once.

States are (N, L, n) arrays; ``tokens`` (N, L) says which word sits at each position (for
the decoder: its *input* token) and ``lengths`` (N,) how many positions are valid (the
end-of-sequence position counts, padding after it does not). Internally the valid
positions are flattened to M rows, so no work is spent on padding and every product is
one large matrix multiplication.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

COMPONENTS = ("mu", "chi", "delta")


def valid_mask(lengths: np.ndarray, width: int) -> np.ndarray:
    """(N, width) bool: position < length."""
    return np.arange(width)[None, :] < np.asarray(lengths)[:, None]


def group_sums(values: np.ndarray, groups: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-group sums of the rows of ``values`` (M, k), and the group sizes. Few groups: one
    matrix product with the one-hot group matrix; many (a translation vocabulary): one sort
    and ``np.add.reduceat``. No Python loop over rows either way."""
    values = values.reshape(len(values), -1)
    counts = np.bincount(groups, minlength=n_groups)
    if n_groups * len(values) <= 50_000_000:
        onehot = np.zeros((n_groups, len(values)), dtype=values.dtype)
        onehot[groups, np.arange(len(values))] = 1
        return (onehot @ values).astype(np.float64), counts
    order = np.argsort(groups, kind="stable")
    present = np.flatnonzero(counts)
    starts = np.r_[0, np.cumsum(counts[present])[:-1]]
    sums = np.zeros((n_groups, values.shape[1]), dtype=np.float64)
    sums[present] = np.add.reduceat(values[order], starts, axis=0)
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

    @cached_property
    def rows(self) -> tuple[np.ndarray, np.ndarray]:
        """(sequence, position) of each valid position, the M flat rows."""
        return np.nonzero(self.mask)

    def flat_parts(self, flat_states: np.ndarray) -> dict[str, np.ndarray]:
        """The components at the valid positions, (M, n) each, given the states there."""
        seq, pos = self.rows
        mu, chi = self.mu[pos], self.chi[self.tokens[seq, pos]]
        return {"mu": mu, "chi": chi, "delta": flat_states - mu - chi}

    def parts(self, states: np.ndarray) -> dict[str, np.ndarray]:
        """The three (N, L, n) components of ``states``, each zero at padding; they sum to
        ``states`` exactly at valid positions."""
        out = {}
        for name, flat in self.flat_parts(states[self.mask]).items():
            full = np.zeros(states.shape, dtype=np.float32)
            full[self.mask] = flat
            out[name] = full
        return out


def decompose(states: np.ndarray, tokens: np.ndarray, lengths: np.ndarray, vocab_size: int) -> Decomposition:
    """μ_t: mean state at position t over the sequences valid there; χ(w): mean of h − μ_t
    over every valid occurrence of token w at any position."""
    mask = valid_mask(lengths, states.shape[1])
    seq, pos = np.nonzero(mask)
    flat = states[seq, pos]
    step_count = np.bincount(pos, minlength=states.shape[1])
    mu = group_sums(flat, pos, states.shape[1])[0] / np.maximum(step_count, 1)[:, None]
    words = tokens[seq, pos]
    sums, word_count = group_sums(flat - mu[pos], words, vocab_size)
    chi = sums / np.maximum(word_count, 1)[:, None]
    return Decomposition(mu=mu.astype(np.float32), chi=chi.astype(np.float32), step_count=step_count,
                         word_count=word_count, mask=mask, tokens=tokens)


def variance_fractions(states: np.ndarray, dec: Decomposition) -> dict[str, float]:
    """Fraction of the states' total variance (sum of squared deviations from their mean,
    over valid positions) that each component carries. The three sum to one (``sum``, kept
    as a check): the residual h − μ_t averages to zero at every position, and Δ to zero over
    every word's occurrences, so the cross terms vanish."""

    def total_ss(x):
        x = x.astype(np.float64)
        return float(((x - x.mean(0)) ** 2).sum())

    flat = states[dec.mask]
    total = total_ss(flat)
    out = {name: total_ss(part) / total for name, part in dec.flat_parts(flat).items()}
    out["sum"] = sum(out[c] for c in COMPONENTS)
    return out
