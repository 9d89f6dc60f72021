"""Run a trained model over the test set with teacher forcing and record everything the
analysis needs: the probe, the interface between training and analysis.

``probe.npz`` layout (N test sequences, S source and T target positions, n units):

=================  ===============  =====================================================
key                shape            meaning
=================  ===============  =====================================================
enc_states         (N, S, n) f32    encoder hidden states (0 at padding; h, for an LSTM)
dec_states         (N, T, n) f32    decoder hidden states (0 at padding; h, for an LSTM)
attention          (N, T, S) f32    attention weights (AED, AO only); for multihead the
                                    uniform mean of the heads' weights
enc_tokens         (N, S) i32       source ids, </s>-terminated, 0-padded
dec_inputs         (N, T) i32       decoder input ids (<s>, then the previous target)
targets            (N, T) i32       target ids
predictions        (N, T) i32       teacher-forced argmax of the readout
enc_len, dec_len   (N,) i32         valid lengths, counting </s>
align              (N, T) i32       source index behind each target (tasks that know it)
W_q, W_k           (n, d) f32       q = h @ W_q, k = h @ W_k (AED, AO)
W_v                (n, dv) f32      values v = h @ W_v (AED, AO)
scale              () f32           score = q·k * scale (AED, AO)
W_out              (m, V_tgt) f32   logits = features @ W_out; features = [h^D; c] (AED),
                                    c (AO), h^D (VED)
arch               () str           "ved", "aed" or "ao"
attention_kind     () str           the form of attention, e.g. "learned", "dot" (AED, AO)
identity           () str           JSON: task, arch, seed, dataset and model fingerprints
src_vocab          (V_src,) str     id -> token
tgt_vocab          (V_tgt,) str
=================  ===============  =====================================================

A ``multihead`` model (H heads of d_h = n / H dimensions) also has:

=================  ===============  =====================================================
head_attention     (N, H, T, S) f32 each head's attention weights (0 at padded steps)
head_W_q, head_W_k (H, n, d_h) f32  head h's score: (h^D @ head_W_q[h])·(h^E @ head_W_k[h])
                                    * scale, with scale = 1/sqrt(d_h)
head_W_v           (H, n, d_h) f32  head h's values
W_o                (H·d_h, n) f32   output projection; rows h·d_h … (h+1)·d_h read head h
heads              () i32           H
=================  ===============  =====================================================

and there ``W_q``, ``W_k`` (n, H·d_h) are the heads side by side (so q·k·scale is the
sum of the heads' scores) and ``W_v`` (n, n) is concat_h(head_W_v[h]) @ W_o, the value
map of a context where every head attends to the same position: readers written for
one head see a pooled model, and per-head analysis reads the head_* keys
(``attend.analysis.attention.head_breakdown``). The states are all the nine-term
breakdown needs besides these matrices, so the projected queries and keys are not stored.
"""

from __future__ import annotations

from pathlib import Path

import json

import numpy as np

from .tasks.base import DataError, SPECIALS, check_identity, decoder_inputs, lengths, load_npz, save_npz

# Keys every probe has, with their number of dimensions.
REQUIRED = {
    "enc_states": 3, "dec_states": 3, "enc_tokens": 2, "dec_inputs": 2, "targets": 2,
    "predictions": 2, "enc_len": 1, "dec_len": 1, "W_out": 2, "arch": 0,
    "src_vocab": 1, "tgt_vocab": 1,
}
ATTENTION_KEYS = {"attention": 3, "W_q": 2, "W_k": 2, "W_v": 2, "scale": 0, "attention_kind": 0}
# Keys of a multihead probe besides those, with their number of dimensions.
MULTIHEAD_KEYS = {"head_attention": 4, "head_W_q": 3, "head_W_k": 3, "head_W_v": 3, "W_o": 2, "heads": 0}


def record(model, src: np.ndarray, tgt: np.ndarray, vocab: dict, align=None, batch_size: int = 500) -> dict:
    """The probe's arrays for ``model`` on (src, tgt)."""
    import keras

    dec_in = decoder_inputs(tgt)
    parts: dict[str, list] = {}
    for i in range(0, len(src), batch_size):
        out = model.internals(keras.ops.convert_to_tensor(src[i:i + batch_size]),
                              keras.ops.convert_to_tensor(dec_in[i:i + batch_size]))
        for key, value in out.items():
            parts.setdefault(key, []).append(keras.ops.convert_to_numpy(value))
    arrays = {k: np.concatenate(v).astype(np.float32) for k, v in parts.items()}
    logits = arrays.pop("logits")
    enc_mask, dec_mask = src != 0, tgt != 0
    arrays["enc_states"] *= enc_mask[..., None]
    arrays["dec_states"] *= dec_mask[..., None]
    if "attention" in arrays:
        arrays["attention"] *= dec_mask[..., None]
    if "head_attention" in arrays:
        arrays["head_attention"] *= dec_mask[:, None, :, None]
    arrays.update(
        enc_tokens=src.astype(np.int32), dec_inputs=dec_in.astype(np.int32), targets=tgt.astype(np.int32),
        predictions=np.where(dec_mask, logits.argmax(-1), 0).astype(np.int32),
        enc_len=lengths(src), dec_len=lengths(tgt), arch=np.array(model.arch),
        src_vocab=np.array(vocab["src_vocab"]), tgt_vocab=np.array(vocab["tgt_vocab"]),
    )
    if align is not None:
        arrays["align"] = align.astype(np.int32)
    arrays.update(model.matrices())
    if model.arch != "ved":
        arrays["attention_kind"] = np.array(model.attention_kind)
        if model.attention_kind == "multihead":
            arrays["heads"] = np.array(model.heads, dtype=np.int32)
    arrays["identity"] = np.array(json.dumps(model.identity, sort_keys=True))
    return arrays


def save(path: str | Path, arrays: dict) -> None:
    save_npz(path, arrays)


def identity(arrays: dict) -> dict:
    """The identity a probe (or an analysis made from it) records; {} if none."""
    return json.loads(str(arrays["identity"])) if "identity" in arrays else {}


def load(path: str | Path, expect: dict | None = None) -> dict[str, np.ndarray]:
    """Load a probe without pickle and check its layout, and that it is the probe of the
    model ``expect`` names (task, arch, seed...)."""
    arrays = load_npz(path, REQUIRED, "probe")
    if expect:
        check_identity(identity(arrays), expect, path, "probe")
    arch = str(arrays["arch"])
    if arch != "ved":
        missing = [k for k in ATTENTION_KEYS if k not in arrays]
        if missing:
            raise DataError(f"{path}: probe of an {arch} model lacks {missing}")
    multihead = arch != "ved" and str(arrays["attention_kind"]) == "multihead"
    if multihead:
        missing = [k for k in MULTIHEAD_KEYS if k not in arrays]
        if missing:
            raise DataError(f"{path}: probe of a multihead {arch} model lacks {missing}")
        for key, ndim in MULTIHEAD_KEYS.items():
            if arrays[key].ndim != ndim:
                raise DataError(f"{path}: probe array {key!r} has shape {arrays[key].shape}, "
                                f"expected {ndim} dimensions")
    n, s, units = arrays["enc_states"].shape
    t = arrays["dec_states"].shape[1]
    expect = {"enc_tokens": (n, s), "dec_inputs": (n, t), "targets": (n, t), "enc_len": (n,), "dec_len": (n,)}
    if arch != "ved":
        expect["attention"] = (n, t, s)
    if multihead:
        heads = int(arrays["heads"])
        expect["head_attention"] = (n, heads, t, s)
        for key in ("head_W_q", "head_W_k", "head_W_v"):
            expect[key] = (heads, units, units // heads)
    for key, shape in expect.items():
        if arrays[key].shape != shape:
            raise DataError(f"{path}: probe array {key!r} has shape {arrays[key].shape}, expected {shape}")
    for key in ("enc_states", "dec_states"):  # the analysis weights padding by 0: finite only
        if not np.isfinite(arrays[key]).all():
            raise DataError(f"{path}: probe array {key!r} holds NaN or infinite values, so its model "
                            "diverged: delete the model's folder under results/models and rerun")
    if list(arrays["src_vocab"][: len(SPECIALS)]) != SPECIALS:
        raise DataError(f"{path}: probe vocabulary does not start with {SPECIALS}")
    return arrays
