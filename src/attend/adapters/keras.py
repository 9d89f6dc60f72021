"""The probe of a seq2seq Keras 3 model trained anywhere, teacher-forced on (source,
target) id arrays: one function, :func:`record`, to which the caller names where the
model keeps what the analysis reads.

    from attend.adapters.keras import record
    arrays = record(model, src, tgt, src_vocab=..., tgt_vocab=...,
                    enc_states="encoder", dec_states="decoder",
                    query="to_query", key="to_key", scale=1.0, attention=("attention", 1))
    attend.probe.save("probe.npz", arrays)       # then: attend analyse probe.npz --out DIR

What can be named:

* states and weights (``enc_states``, ``dec_states``, ``attention``, ``logits``): a layer
  name, whose output during the forward pass is taken; ``(name, i)`` for the i-th output
  of a layer that returns several (a recurrent layer with ``return_state``, an attention
  layer that returns its scores); or a callable ``f(model, src, dec_in) -> array`` per
  batch. ``logits`` defaults to the model's output (its first, if several).
* projections (``query``, ``key`` and optionally ``value``, ``readout``): a layer name of
  a ``Dense`` (kernel (n, d)) or an ``EinsumDense`` with one kernel per head (n, H, d_h),
  as in ``keras.layers.MultiHeadAttention``; ``"layer/attribute/..."`` for a sublayer or a
  weight (``"mha/query_dense"``, ``"attention/w_q"``); an array; a callable
  ``f(model) -> array``; or ``"identity"`` (dot-product attention on the states).
  A projection's bias is folded in exactly: the states it reads get a constant 1 appended
  at their valid positions and the bias becomes the matrix's last row.

Ids follow the probe's convention (``attend.tokens``): 0 pads, 1 is ``</s>`` (every source
and target ends with it), 2 is ``<s>``. The model is called on ``(src, dec_in)`` with
``dec_in`` = ``<s>`` then the target shifted right (``attend.tokens.decoder_inputs``);
pass ``call`` for another calling convention. The query projection must read the decoder
states and the key projection the encoder states (the probe's ``single`` and ``heads``
forms). Works on any Keras backend; imports Keras only when called.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import probe as probe_format
from ..tokens import decoder_inputs, lengths

Named = Any  # a layer name, (name, output index), or a callable (module docstring)


def find_layer(model, name: str):
    """The layer called ``name`` anywhere in ``model`` (nested layers too)."""
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if layer.name == name:
            return layer
    names = sorted(layer.name for layer in model._flatten_layers(include_self=False, recursive=True))
    raise ValueError(f"the model has no layer named {name!r}; its layers: {names}")


def resolve(model, path: str):
    """``"layer"`` or ``"layer/attribute/..."``: the layer, then its attributes in turn."""
    first, *rest = path.split("/")
    target = find_layer(model, first)
    for attribute in rest:
        if not hasattr(target, attribute):
            raise ValueError(f"{path!r}: {target!r} has no attribute {attribute!r}")
        target = getattr(target, attribute)
    return target


def _numpy(value) -> np.ndarray:
    import keras

    return np.asarray(keras.ops.convert_to_numpy(value))


def projection(model, spec, width: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """(matrix, bias or None) of a named projection in kernel orientation (x @ W): (n, d)
    or, one per head, (n, H, d_h) with a bias (H, d_h). ``"identity"`` needs ``width``."""
    if isinstance(spec, str) and spec == "identity":
        return np.eye(width, dtype=np.float64), None
    target = spec(model) if callable(spec) else resolve(model, spec) if isinstance(spec, str) else spec
    if hasattr(target, "kernel"):  # a Dense or EinsumDense layer
        bias = getattr(target, "bias", None)
        return _numpy(target.kernel).astype(np.float64), None if bias is None else _numpy(bias).astype(np.float64)
    matrix = _numpy(target).astype(np.float64)
    if matrix.ndim not in (2, 3):
        raise ValueError(
            f"projection {spec!r}: expected a kernel (n, d) or (n, heads, d_head), got shape {matrix.shape}"
        )
    return matrix, None


@contextlib.contextmanager
def capturing(layers: dict[str, Any]):
    """While inside, every call of these layers appends its output to ``outputs[name]``."""
    outputs: dict[str, list] = {name: [] for name in layers}
    for name, layer in layers.items():
        original = layer.call

        def call(*args, _original=original, _name=name, **kwargs):
            out = _original(*args, **kwargs)
            outputs[_name].append(out)
            return out

        object.__setattr__(layer, "call", call)  # on the instance, past Keras's attribute tracking
    try:
        yield outputs
    finally:
        for layer in layers.values():
            object.__delattr__(layer, "call")


def _split(spec: Named) -> tuple[str, int | None]:
    return (spec[0], int(spec[1])) if isinstance(spec, tuple) else (spec, None)


def _output(name: str, index: int | None, calls: list):
    if len(calls) != 1:
        raise ValueError(
            f"layer {name!r} ran {len(calls)} times in one forward pass; name what you want with a "
            "callable f(model, src, dec_in) instead"
        )
    out = calls[0]
    if isinstance(out, (list, tuple)):
        if index is None:
            raise ValueError(f"layer {name!r} returns {len(out)} outputs: name one, e.g. ({name!r}, 0)")
        return out[index]
    if index not in (None, 0):
        raise ValueError(f"layer {name!r} returns one output, not an output {index}")
    return out


def _with_bias_rows(matrix: np.ndarray, bias: np.ndarray | None, fold: bool) -> np.ndarray:
    """(n [+1], ...) the matrix with its bias (or zeros) as a last row when ``fold``."""
    if not fold:
        return matrix
    row = np.zeros((1,) + matrix.shape[1:]) if bias is None else np.asarray(bias).reshape((1,) + matrix.shape[1:])
    return np.concatenate([matrix, row], 0)


def _by_head(matrix: np.ndarray, heads: int | None) -> np.ndarray | None:
    """(n, H, d_h) -> (H, n, d_h); (n, H d_h) with ``heads`` given likewise; else None."""
    if matrix.ndim == 3:
        return matrix.transpose(1, 0, 2)
    if heads:
        n, width = matrix.shape
        return matrix.reshape(n, heads, width // heads).transpose(1, 0, 2)
    return None


def _softmax(scores: np.ndarray, enc_mask: np.ndarray) -> np.ndarray:
    z = np.where(enc_mask, scores, -np.inf)
    z = np.exp(z - z.max(-1, keepdims=True))
    return z / z.sum(-1, keepdims=True)


def record(
    model,
    src: np.ndarray,
    tgt: np.ndarray,
    *,
    src_vocab: list[str],
    tgt_vocab: list[str],
    enc_states: Named,
    dec_states: Named,
    query,
    key,
    scale: float,
    attention: Named | None = None,
    heads: int | None = None,
    value=None,
    readout=None,
    logits: Named | None = None,
    align: np.ndarray | None = None,
    call: Callable | None = None,
    batch_size: int = 500,
    arch: str | None = None,
    attention_kind: str | None = None,
    identity: dict | None = None,
) -> dict[str, np.ndarray]:
    """The probe (docs/probe-format.md) of a Keras seq2seq ``model`` on ``src`` (N, S)
    and ``tgt`` (N, T), checked (:func:`attend.probe.validate`); save it with
    :func:`attend.probe.save`. Names as in the module docstring; ``scale`` is the score's
    factor (1/sqrt(d) for scaled dot products, 1 for a plain one); ``heads`` splits (n,
    H·d_h) projections into H heads (kernels of shape (n, H, d_h) say so themselves);
    ``value`` and ``readout`` (the value map (n_e, dv) and how a context reaches the
    logits (dv, V_tgt)) enable the dictionary measurements, ``align`` (N, T) the
    alignment ones; ``arch``, ``attention_kind`` and ``identity`` say what the model is."""
    src, tgt = np.asarray(src), np.asarray(tgt)
    dec_in = decoder_inputs(tgt)
    call = call or (lambda m, s, d: m((s, d), training=False))
    named = {"enc_states": enc_states, "dec_states": dec_states, "attention": attention, "logits": logits}
    layers = {}
    for spec in named.values():
        if spec is not None and not callable(spec):
            layer_name, _ = _split(spec)
            layers[layer_name] = find_layer(model, layer_name)
    parts: dict[str, list] = {role: [] for role, spec in named.items() if spec is not None}
    parts.setdefault("logits", [])
    for i in range(0, len(src), batch_size):
        s, d = src[i : i + batch_size], dec_in[i : i + batch_size]
        with capturing(layers) as outputs:
            out = call(model, s, d)
        for role in parts:
            spec = named[role]
            if spec is None:  # the model's own output: its logits
                got = out[0] if isinstance(out, (list, tuple)) else out
            elif callable(spec):
                got = spec(model, s, d)
            else:
                got = _output(*_split(spec), outputs[_split(spec)[0]])
            parts[role].append(_numpy(got).astype(np.float32))
    arrays = {role: np.concatenate(chunks) for role, chunks in parts.items()}
    enc_len, dec_len = lengths(src), lengths(tgt)
    enc_mask = probe_format.valid_positions(enc_len, src.shape[1])
    dec_mask = probe_format.valid_positions(dec_len, tgt.shape[1])
    enc_h, dec_h = arrays["enc_states"].astype(np.float64), arrays["dec_states"].astype(np.float64)

    w_q, b_q = projection(model, query, dec_h.shape[-1])
    w_k, b_k = projection(model, key, enc_h.shape[-1])
    w_v, b_v = projection(model, value, enc_h.shape[-1]) if value is not None else (None, None)
    fold_dec, fold_enc = b_q is not None, b_k is not None or b_v is not None
    if fold_dec:
        dec_h = np.concatenate([dec_h, dec_mask[..., None]], -1)
    if fold_enc:
        enc_h = np.concatenate([enc_h, enc_mask[..., None]], -1)
    w_q, w_k = _with_bias_rows(w_q, b_q, fold_dec), _with_bias_rows(w_k, b_k, fold_enc)
    head_w_q, head_w_k = _by_head(w_q, heads), _by_head(w_k, heads)
    if (head_w_q is None) != (head_w_k is None):
        raise ValueError(
            f"the query projection has shape {w_q.shape} and the key projection {w_k.shape}: both per head, or neither"
        )
    probe: dict[str, np.ndarray] = {}
    if head_w_q is not None:
        scores = np.einsum("ntm,hmd,nsk,hkd->nhts", dec_h, head_w_q, enc_h, head_w_k) * scale
        computed = _softmax(scores, enc_mask[:, None, None, :])
        n_heads = len(head_w_q)
        probe.update(
            head_W_q=head_w_q,
            head_W_k=head_w_k,
            heads=np.array(n_heads, np.int32),
            W_q=w_q.reshape(len(w_q), -1),
            W_k=w_k.reshape(len(w_k), -1),
        )
    else:
        scores = np.einsum("ntm,md,nsk,kd->nts", dec_h, w_q, enc_h, w_k) * scale
        computed = _softmax(scores, enc_mask[:, None, :])
        probe.update(W_q=w_q, W_k=w_k)
    weights = arrays.get("attention", computed.astype(np.float32))
    if weights.shape != computed.shape:
        raise ValueError(
            f"the attention named has shape {weights.shape}, but the projections give "
            f"{computed.shape} (batch, [heads,] T, S)"
        )
    probe["head_attention" if head_w_q is not None else "attention"] = weights  # heads: assemble takes the mean
    if value is not None:
        if w_v.ndim == 3:
            raise ValueError(
                "a per-head value projection has no single value map: pass value as a callable giving "
                "the (n_e, dv) map through the output projection"
            )
        probe["W_v"] = _with_bias_rows(w_v, b_v, fold_enc)
    if readout is not None:
        probe["W_c"] = projection(model, readout)[0]
    return probe_format.assemble(
        {
            **probe,
            "enc_states": enc_h,
            "dec_states": dec_h,
            "scale": scale,
            "enc_tokens": src,
            "dec_inputs": dec_in,
            "targets": tgt,
            "predictions": arrays["logits"].argmax(-1),
            "enc_len": enc_len,
            "dec_len": dec_len,
            "src_vocab": src_vocab,
            "tgt_vocab": tgt_vocab,
            "align": align,
            "arch": arch,
            "attention_kind": attention_kind,
            "identity": identity,
        },
        "keras adapter",
    )
