"""h = μ_t + χ(w) + Δ (docs/science.md §4.1), vectorised over every sequence at once.

States are (N, L, n) arrays; ``tokens`` (N, L) says which word sits at each position (for
the decoder: its *input* token) and ``lengths`` (N,) how many positions are valid (the
end-of-sequence position counts, padding after it does not). Internally the valid
positions are flattened to M rows, so no work is spent on padding and every product is
one large matrix multiplication.

The components are properties of the states alone, so a multi-head model has one
decomposition per side, shared by its heads; its score splits head by head over these
same μ, χ, Δ (``attend.analysis.attention``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

COMPONENTS = ("mu", "chi", "delta")
ONEHOT_LIMIT = 50_000_000  # entries of the one-hot group matrix in group_sums (200 MB of float32)


def valid_mask(lengths: np.ndarray, width: int) -> np.ndarray:
    """(N, width) bool: position < length."""
    return np.arange(width)[None, :] < np.asarray(lengths)[:, None]


def group_sums(
    values: np.ndarray, groups: np.ndarray, n_groups: int, rows: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per-group sums of rows of ``values`` (M, k), and the group sizes: row ``rows[i]``
    (default: i) counts in group ``groups[i]``; rows not listed count nowhere. Few
    groups: one matrix product with the one-hot group matrix; many (a translation
    vocabulary): one sort and ``np.add.reduceat``. No Python loop over rows either way."""
    values = values.reshape(len(values), -1)
    rows = np.arange(len(values)) if rows is None else rows
    counts = np.bincount(groups, minlength=n_groups)
    if n_groups * len(values) <= ONEHOT_LIMIT:
        onehot = np.zeros((n_groups, len(values)), dtype=values.dtype)
        onehot[groups, rows] = 1
        return (onehot @ values).astype(np.float64), counts
    order = np.argsort(groups, kind="stable")
    present = np.flatnonzero(counts)
    starts = np.r_[0, np.cumsum(counts[present])[:-1]]
    sums = np.zeros((n_groups, values.shape[1]), dtype=np.float64)
    sums[present] = np.add.reduceat(values[rows[order]], starts, axis=0)
    return sums, counts


@dataclass
class Decomposition:
    """One side (encoder or decoder) of a model over a set of sequences."""

    mu: np.ndarray  # (L, n)  temporal component per position
    chi: np.ndarray  # (V, n)  input component per token (0 where a token never occurs)
    step_count: np.ndarray  # (L,)    valid sequences at each position
    word_count: np.ndarray  # (V,)    valid occurrences of each token
    mask: np.ndarray  # (N, L)  valid positions
    tokens: np.ndarray  # (N, L)
    states: np.ndarray  # (N, L, n) the states decomposed (a reference, not a copy)

    @cached_property
    def rows(self) -> tuple[np.ndarray, np.ndarray]:
        """(sequence, position) of each valid position, the M flat rows."""
        return np.nonzero(self.mask)

    @cached_property
    def flat(self) -> np.ndarray:
        """(M, n) the states at the valid positions, in row order."""
        return self.states[self.mask]

    @cached_property
    def flat64(self) -> np.ndarray:
        """:attr:`flat` in float64, made once for every unit that reads these states."""
        return self.flat.astype(np.float64)

    def release(self) -> None:
        """Drop the cached copies of the states (:attr:`flat`, :attr:`flat64`: at opus-mt's size
        0.5 GB a layer), once the units that read them are measured; they are made again if asked."""
        for name in ("flat", "flat64"):
            self.__dict__.pop(name, None)

    @cached_property
    def flat_tokens(self) -> np.ndarray:
        """(M,) the token at each valid position."""
        return self.tokens[self.mask]

    def flat_parts(self, flat_states: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """The components at the valid positions, (M, n) each, of ``self.flat`` unless
        other states are given."""
        flat_states = self.flat if flat_states is None else flat_states
        mu, chi = self.mu[self.rows[1]], self.chi[self.flat_tokens]
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
    over every valid occurrence of token w at any position.

    Both come from sums of h over the whole (N, L) grid with the padding weighted by 0, so
    nothing is copied out first (padding may hold any finite values): per position, one
    einsum with the mask; per word, one product with the one-hot word matrix (for a
    large vocabulary, sums over the gathered valid states). Then
    Σ_w (h − μ_t) = Σ_w h − Σ_t count(t, w) μ_t, so h − μ is never formed either."""
    _n_seq, width, units = states.shape
    mask = valid_mask(lengths, width)
    step_count = mask.sum(0)
    mu = np.einsum("nl,nlk->lk", mask.astype(states.dtype), states) / np.maximum(step_count, 1)[:, None]
    cells = np.flatnonzero(mask)
    words = tokens.reshape(-1)[cells]
    word_sums, word_count = group_sums(states.reshape(-1, units), words, vocab_size, rows=cells)
    pairs = np.bincount(cells % width * vocab_size + words, minlength=width * vocab_size).reshape(width, vocab_size)
    chi = (word_sums - pairs.T @ mu) / np.maximum(word_count, 1)[:, None]
    return Decomposition(
        mu=mu.astype(np.float32),
        chi=chi.astype(np.float32),
        step_count=step_count,
        word_count=word_count,
        mask=mask,
        tokens=tokens,
        states=states,
    )


def variance_fractions(parts: Decomposition) -> dict[str, float]:
    """Fraction of the decomposed states' total variance (sum of squared deviations from their mean,
    over valid positions) that each component carries. The three sum to one (``sum``, kept
    as a check): the residual h − μ_t averages to zero at every position, and Δ to zero over
    every word's occurrences, so the cross terms vanish."""

    def total_ss(x):
        x = x.astype(np.float64)
        return float(((x - x.mean(0)) ** 2).sum())

    total = total_ss(parts.flat)
    out = {name: total_ss(part) / total for name, part in parts.flat_parts().items()}
    out["sum"] = sum(out[c] for c in COMPONENTS)
    return out
