"""How predictions are scored against targets, in one place: token accuracy over the
valid (non-padding) target positions, and sequence accuracy (every valid position
right). Training's validation, the test scores and the probe's accuracy by length all
use these."""

from __future__ import annotations

import numpy as np

from .tasks.base import PAD


def row_scores(predictions: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per sequence: tokens right, valid tokens, and whether the whole sequence is right."""
    valid = targets != PAD
    right = (predictions == targets) & valid
    return right.sum(-1), valid.sum(-1), (right | ~valid).all(-1)


def accuracy(predictions: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    """Token and sequence accuracy of (N, T) predicted ids against (N, T) target ids."""
    right, valid, whole = row_scores(predictions, targets)
    return {"token_acc": float(right.sum() / valid.sum()), "seq_acc": float(whole.mean())}
