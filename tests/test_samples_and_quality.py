"""The rule that picks the sample sequences the figures draw, and the two attention
quality measures of the approximation table, on constructed inputs."""

import numpy as np

from attend.analysis.measure import attention_quality, representative


def rows(lengths, width=8):
    """Targets of the given valid lengths (ids 3..), padded with 0."""
    out = np.zeros((len(lengths), width), np.int32)
    for i, n in enumerate(lengths):
        out[i, :n] = 3 + np.arange(n)
    return out


def test_representative_samples_are_right_and_of_median_length():
    targets = rows([2, 5, 3, 4, 4, 7, 4])
    predictions = targets.copy()
    predictions[3, 0] = 99  # sequence 3 is wrong
    # Right: 0 (2), 1 (5), 2 (3), 4 (4), 5 (7), 6 (4): median length 4.
    picked = representative(targets, predictions, 4)
    assert list(picked[:2]) == [4, 6]  # length 4, by index; 3 is wrong
    assert set(picked[2:]) == {1, 2}  # one position from the median
    assert 3 not in representative(targets, predictions, 6)
    assert representative(targets, predictions, 7)[-1] == 3  # the wrong one comes last


def test_representative_ignores_padding_beyond_the_target():
    targets = rows([3, 3])
    predictions = targets.copy()
    predictions[0, 5] = 42  # a prediction past the end (where the target is padding) does not count
    assert list(representative(targets, predictions, 2)) == [0, 1]


def test_attention_quality_on_diagonal_and_uniform_attention():
    n, t, s = 2, 4, 7
    dec_mask = np.ones((n, t), bool)
    enc_mask = np.ones((n, s), bool)
    diagonal = np.zeros((n, t, s))
    for step in range(t):
        diagonal[:, step, round(step * (s - 1) / (t - 1))] = 1.0  # s = 0, 2, 4, 6
    assert attention_quality(diagonal, dec_mask, enc_mask) == {"max_attention": 1.0, "near_diagonal": 1.0}
    # Always the first position: within one of the diagonal only at t = 0 (diagonal 0).
    first = np.zeros((n, t, s))
    first[..., 0] = 0.6
    first[..., 1:] = 0.4 / (s - 1)
    q = attention_quality(first, dec_mask, enc_mask)
    assert np.isclose(q["max_attention"], 0.6) and np.isclose(q["near_diagonal"], 1 / 4)


def test_attention_quality_uses_each_sequence_own_lengths():
    # Sequence 1 has 2 decoder and 3 encoder positions: its diagonal is s = 0, 2.
    attention = np.zeros((1, 4, 7))
    attention[0, 0, 0] = attention[0, 1, 2] = 1.0
    dec_mask = np.array([[True, True, False, False]])
    enc_mask = np.array([[True, True, True, False, False, False, False]])
    assert attention_quality(attention, dec_mask, enc_mask)["near_diagonal"] == 1.0
    attention[0, 1] = 0
    attention[0, 1, 5] = 1.0  # far off (and into padding)
    assert attention_quality(attention, dec_mask, enc_mask)["near_diagonal"] == 0.5
