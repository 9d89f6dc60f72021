"""The token conventions every artifact shares: id 0 is padding, 1 is end-of-sequence
(``</s>``), 2 is start-of-sequence (``<s>``), then the words in vocabulary order.

Every source and target sequence ends with ``</s>`` (the source's end-of-sequence position
is its last valid position and may be attended); the decoder's input at step t is the
target at t - 1, with ``<s>`` at t = 0 (:func:`decoder_inputs`). ``attend.tasks.base``
encodes word sequences with these ids; datasets, probes and the analysis read them.
"""

import numpy as np

PAD, EOS, SOS = 0, 1, 2
SPECIALS = ["<pad>", "</s>", "<s>"]
UNK = "<unk>"  # the out-of-vocabulary word of tasks that have one (translation)


def decoder_inputs(tgt: np.ndarray) -> np.ndarray:
    """Teacher-forcing inputs: <s> then the target shifted right (padding stays padding)."""
    dec = np.empty_like(tgt)
    dec[:, 0] = SOS
    dec[:, 1:] = tgt[:, :-1]
    dec[tgt == PAD] = PAD
    return dec


def lengths(ids: np.ndarray) -> np.ndarray:
    """Valid length of each row, counting its </s>."""
    return (ids != PAD).sum(axis=1).astype(np.int32)
