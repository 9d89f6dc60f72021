"""Running a trained model on sources: free-running greedy decoding, and one teacher-forced
pass that scores every target at once.

Greedy sequence accuracy is computed from one teacher-forced pass, which is exact: a
sequence is decoded correctly by greedy free-running decoding exactly when every
teacher-forced argmax is correct (by induction over steps, the greedy decoder then sees the
same inputs). Token accuracy under free-running decoding needs real decoding:
:func:`greedy_decode`.
"""

from __future__ import annotations

import keras
import numpy as np

from .scoring import accuracy
from .tokens import EOS, PAD, SOS, decoder_inputs


def teacher_forced_accuracy(model, src, tgt, batch_size: int = 256) -> dict[str, float]:
    """Token accuracy with teacher forcing, the exact-match rate (which equals greedy
    free-running sequence accuracy) and the mean cross-entropy per valid target token."""
    dec_in, argmax, nll, n_tokens = decoder_inputs(tgt), [], 0.0, 0
    for i in range(0, len(src), batch_size):
        logits = keras.ops.convert_to_numpy(
            model.predict_on_batch((src[i : i + batch_size], dec_in[i : i + batch_size]))
        )
        t = tgt[i : i + batch_size]
        valid = t != PAD
        shifted = logits - logits.max(-1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
        nll -= np.take_along_axis(log_probs, t[..., None], -1)[..., 0][valid].sum()
        n_tokens += int(valid.sum())
        argmax.append(np.argmax(logits, axis=-1).astype(np.int32))
    return {**accuracy(np.concatenate(argmax), tgt), "loss": float(nll / max(n_tokens, 1))}


def greedy_decode(model, src, max_len: int, batch_size: int = 1024) -> np.ndarray:
    """Free-running greedy decoding: feed back each argmax; stop a row at </s>."""
    out = np.full((len(src), max_len), PAD, dtype=np.int32)
    for i in range(0, len(src), batch_size):
        s = src[i : i + batch_size]
        dec = np.zeros((len(s), max_len), np.int32)
        dec[:, 0] = SOS
        done = np.zeros(len(s), bool)
        for t in range(max_len):
            step = np.argmax(model.predict_on_batch((s, dec))[:, t], axis=-1)
            step[done] = PAD
            out[i : i + len(s), t] = step
            done |= step == EOS
            if done.all() or t + 1 == max_len:
                break
            dec[:, t + 1] = step
    return out


def greedy_accuracy(model, src, tgt) -> dict[str, float]:
    """Token and sequence accuracy of free-running greedy decoding against the targets."""
    return accuracy(greedy_decode(model, src, tgt.shape[1]), tgt)
