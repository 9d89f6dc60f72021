"""The Keras layers the models of ``attend.models`` are made of (Keras 3, backend-neutral
``keras.ops``), each registered for safe loading under the package name ``attend``.

Widths: n is a model's hidden width (the config's ``model.units``), d a query/key width,
H the number of heads and d_h = n / H; S and T are source and target positions.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from ..architectures import ATTENTION_KINDS


def register(cls):
    return keras.saving.register_keras_serializable(package="attend")(cls)


@register
class OneHot(keras.layers.Layer):
    """Token ids (batch, L) -> one-hot vectors (batch, L, depth) of a fixed width (at least
    the vocabulary size)."""

    def __init__(self, depth: int, **kwargs):
        super().__init__(**kwargs)
        self.depth = depth

    def call(self, ids):
        return ops.one_hot(ids, self.depth, dtype=self.compute_dtype)

    def get_config(self):
        return {**super().get_config(), "depth": self.depth}


# ---------------------------------------------------------------------------- positions


def sinusoid_frequencies(dim: int, timescale: float) -> np.ndarray:
    """(ceil(dim / 2),): the angular frequency of each sin/cos pair."""
    return timescale ** (-np.arange(0, dim, 2) / dim)


def fixed_rotation(dim: int, seed: int) -> np.ndarray:
    """(dim, dim): a Haar-distributed orthogonal matrix drawn from ``seed`` alone."""
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((dim, dim)))
    return q * np.sign(np.diag(r))


def rotated_sinusoids(length: int, dim: int, timescale: float, seed: int) -> np.ndarray:
    """Sinusoidal positional encoding (length, dim), rotated by a fixed random orthogonal
    matrix so that its axes do not line up with the one-hot token axes: column 2i of the
    unrotated table is sin(p ω_i), column 2i + 1 is cos(p ω_i)."""
    pos = np.arange(length)[:, None]
    freq = sinusoid_frequencies(dim, timescale)
    table = np.zeros((length, dim))
    table[:, 0::2] = np.sin(pos * freq)
    table[:, 1::2] = np.cos(pos * freq)[:, : dim // 2]
    return (table @ fixed_rotation(dim, seed)).astype("float32")


@register
class PositionalEncoding(keras.layers.Layer):
    """Adds a fixed (non-trainable) rotated sinusoid to each position of (batch, L, dim).

    The first ``max_len`` positions (the longest sequence the model was built for) come
    from a stored table, so they are the same numbers whatever the length; positions past
    it are computed, the same sinusoid under the same rotation (to float32 rounding), so a
    model runs on sequences of any length."""

    def __init__(self, max_len: int, timescale: float, seed: int, **kwargs):
        super().__init__(**kwargs)
        self.max_len, self.timescale, self.seed = max_len, timescale, seed

    def build(self, input_shape):
        dim = input_shape[-1]
        self.table = self.add_weight(
            shape=(self.max_len, dim),
            trainable=False,
            name="table",
            initializer=keras.initializers.Constant(rotated_sinusoids(self.max_len, dim, self.timescale, self.seed)),
        )
        # For positions past the table: angles p ω_i, and the rotation's rows that the sin
        # columns (even) and the cos columns (odd) of the unrotated table go through.
        rotation = fixed_rotation(dim, self.seed).astype("float32")
        self.frequencies = sinusoid_frequencies(dim, self.timescale).astype("float32")
        self.sin_rows, self.cos_rows = rotation[0::2], rotation[1::2]

    def call(self, x):
        length = ops.shape(x)[1]
        if isinstance(length, int) and length <= self.max_len:
            return x + self.table[None, :length]
        return x + self.encoding(length)[None]

    def encoding(self, length) -> keras.KerasTensor:
        """(length, dim): the stored table's rows, then computed rows past them; ``length``
        may be a tensor (a graph traced without a fixed length)."""
        end = max(length, self.max_len) if isinstance(length, int) else ops.maximum(length, self.max_len)
        beyond = ops.arange(self.max_len, end, dtype="float32")
        angles = beyond[:, None] * self.frequencies[None, :]  # (L - max_len, ceil(dim / 2))
        n_cos = self.cos_rows.shape[0]
        computed = ops.sin(angles) @ self.sin_rows + ops.cos(angles[:, :n_cos]) @ self.cos_rows
        return ops.concatenate([ops.convert_to_tensor(self.table), computed], axis=0)[:length]

    def get_config(self):
        return {**super().get_config(), "max_len": self.max_len, "timescale": self.timescale, "seed": self.seed}


# ---------------------------------------------------------------------------- position-wise maps


@register
class ZeroStateGRU(keras.layers.Layer):
    """A GRU cell applied position-wise from a zero state, (batch, L, dim) -> (batch, L, width):
    AO's optional gated map."""

    def __init__(self, width: int, **kwargs):
        super().__init__(**kwargs)
        self.width = width
        self.cell = keras.layers.GRUCell(width)

    def build(self, input_shape):
        self.cell.build((None, input_shape[-1]))

    def call(self, x):
        batch, length = ops.shape(x)[0], ops.shape(x)[1]
        flat = ops.reshape(x, (-1, ops.shape(x)[-1]))
        h, _ = self.cell(flat, [ops.zeros((ops.shape(flat)[0], self.width), dtype=x.dtype)])
        return ops.reshape(h, (batch, length, self.width))

    def get_config(self):
        return {**super().get_config(), "width": self.width}


# ---------------------------------------------------------------------------- attention


@register
class Attention(keras.layers.Layer):
    """Scaled dot-product attention of one ``kind`` (``attend.architectures.ATTENTION_KINDS``):

    * ``learned``: one head with learned Q, K, V (no biases), d = ``key_dim``;
    * ``dot``: the parameter-free dot product (Q = K = V = identity), d = n;
    * ``multihead``: ``heads`` heads of d_h = ``key_dim // heads`` dimensions. Head h has its
      own W_q^h, W_k^h, W_v^h (n, d_h), score_h = (h^D W_q^h)·(h^E W_k^h)/sqrt(d_h) and a
      softmax of its own; the context is concat_h(α_h V_h) W_o, with W_o (heads·d_h, n).
      No biases anywhere.

    :meth:`call` returns (context (batch, T, n), weights). The weights are (batch, T, S) for
    the single-head kinds and (batch, heads, T, S) for ``multihead`` (the model also
    reports their uniform mean over heads, see ``Seq2Seq.internals``).

    Every kind exposes its matrices in kernel orientation (q = h @ W_q) through
    :meth:`matrices`, which is what the analysis reads."""

    def __init__(self, kind: str, key_dim: int, heads: int, **kwargs):
        super().__init__(**kwargs)
        if kind not in ATTENTION_KINDS:
            raise ValueError(f"unknown attention kind {kind!r}; choose one of {list(ATTENTION_KINDS)}")
        if kind == "multihead":
            if not isinstance(heads, (int, np.integer)) or isinstance(heads, bool) or heads < 1:
                raise ValueError(f"model.heads must be a positive integer, got {heads!r}")
            if key_dim % heads:
                raise ValueError(
                    f"multihead attention splits model.units ({key_dim}) into model.heads ({heads}) "
                    f"heads of equal width, so heads must divide units"
                )
        self.kind, self.key_dim, self.heads = kind, key_dim, int(heads)

    @property
    def head_dim(self) -> int:
        """d_h, the width of each head's queries, keys and values (``multihead``)."""
        return self.key_dim // self.heads

    def build(self, dec_states_shape, enc_states_shape=None, enc_mask_shape=None):
        n = dec_states_shape[-1]
        init = keras.initializers.GlorotUniform
        if self.kind == "learned":
            self.w_q = self.add_weight(shape=(n, self.key_dim), initializer=init(), name="w_q")
            self.w_k = self.add_weight(shape=(n, self.key_dim), initializer=init(), name="w_k")
            self.w_v = self.add_weight(shape=(n, n), initializer=init(), name="w_v")
        elif self.kind == "multihead":
            # The heads side by side: columns h·d_h ... (h+1)·d_h belong to head h (rows, for W_o).
            heads_width = self.heads * self.head_dim
            self.w_q = self.add_weight(shape=(n, heads_width), initializer=init(), name="w_q")
            self.w_k = self.add_weight(shape=(n, heads_width), initializer=init(), name="w_k")
            self.w_v = self.add_weight(shape=(n, heads_width), initializer=init(), name="w_v")
            self.w_o = self.add_weight(shape=(heads_width, n), initializer=init(), name="w_o")
        d = {"learned": self.key_dim, "dot": n, "multihead": self.head_dim}[self.kind]
        self.scale = 1.0 / math.sqrt(d)
        self.width = n

    def _split(self, w):
        """(n, heads·d_h) -> (n, heads, d_h)."""
        return ops.reshape(w, (self.width, self.heads, self.head_dim))

    def call(self, dec_states, enc_states, enc_mask):
        """``dec_states`` (batch, T, n) ask, ``enc_states`` (batch, S, n) answer. ``enc_mask``
        is (batch, S), which source positions may be attended, or (batch or 1, T, S), which
        may be attended from each step (a causal mask)."""
        if self.kind == "multihead":
            scores = self.scores(dec_states, enc_states)
            v = ops.einsum("bsn,nhd->bhsd", enc_states, self._split(self.w_v))
            mask = enc_mask[:, None, None, :] if len(enc_mask.shape) == 2 else enc_mask[:, None]
            scores = ops.where(mask, scores, ops.full_like(scores, -1e9))
            weights = ops.softmax(scores, axis=-1)  # (batch, heads, T, S)
            heads_out = ops.einsum("bhts,bhsd->bhtd", weights, v)
            w_o = ops.reshape(self.w_o, (self.heads, self.head_dim, self.width))
            return ops.einsum("bhtd,hdn->btn", heads_out, w_o), weights
        q, k, v = dec_states, enc_states, enc_states
        if self.kind == "learned":
            q, k, v = q @ self.w_q, k @ self.w_k, v @ self.w_v
        scores = ops.einsum("btd,bsd->bts", q, k) * self.scale
        mask = enc_mask[:, None, :] if len(enc_mask.shape) == 2 else enc_mask
        scores = ops.where(mask, scores, ops.full_like(scores, -1e9))
        weights = ops.softmax(scores, axis=-1)
        return ops.einsum("bts,bsd->btd", weights, v), weights

    def scores(self, dec_states, enc_states):
        """``multihead``'s pre-softmax scores (batch, heads, T, S) before masking:
        (h^D W_q^h)·(h^E W_k^h)·scale for every head h."""
        q = ops.einsum("btn,nhd->bhtd", dec_states, self._split(self.w_q))
        k = ops.einsum("bsn,nhd->bhsd", enc_states, self._split(self.w_k))
        return ops.einsum("bhtd,bhsd->bhts", q, k) * self.scale

    def matrices(self) -> dict[str, np.ndarray]:
        """The score scale, W_q, W_k (n, d) and W_v (n, dv), in the probe's keys
        (``attend.probe``).

        ``multihead`` adds ``head_W_q``, ``head_W_k`` (heads, n, d_h), head h's own matrices,
        and ``heads``. Its ``W_q``, ``W_k`` (n, heads·d_h) are the heads side by side, so
        q·k·scale is the *sum* of the heads' scores, and its ``W_v`` (n, n) is the value
        map through the output projection, concat_h(W_v^h) W_o: the context when every head
        attends to the same position."""

        def numpy(w):
            return keras.ops.convert_to_numpy(w)

        if self.kind == "learned":
            mats = {"W_q": numpy(self.w_q), "W_k": numpy(self.w_k), "W_v": numpy(self.w_v)}
        elif self.kind == "multihead":
            w_q, w_k, w_v, w_o = (numpy(w) for w in (self.w_q, self.w_k, self.w_v, self.w_o))
            mats = {
                "W_q": w_q,
                "W_k": w_k,
                "W_v": w_v @ w_o,
                "head_W_q": self.by_head(w_q),
                "head_W_k": self.by_head(w_k),
                "heads": np.array(self.heads, dtype=np.int32),
            }
        else:
            eye = np.eye(self.width, dtype="float32")
            mats = {"W_q": eye, "W_k": eye, "W_v": eye}
        return {**mats, "scale": np.float32(self.scale)}

    def by_head(self, w: np.ndarray) -> np.ndarray:
        """(n, heads·d_h), the heads side by side -> (heads, n, d_h)."""
        return np.ascontiguousarray(w.reshape(self.width, self.heads, self.head_dim).transpose(1, 0, 2))

    def get_config(self):
        return {**super().get_config(), "kind": self.kind, "key_dim": self.key_dim, "heads": self.heads}


# ---------------------------------------------------------------------------- Transformer blocks

# The Transformer's feed-forward width, as a multiple of its width n (Vaswani et al. 2017).
FF_MULTIPLE = 4
LAYER_NORM_EPSILON = 1e-5


@register
class FeedForward(keras.layers.Layer):
    """A Transformer layer's position-wise feed-forward block, (batch, L, n) -> (batch, L, n):
    Dense(hidden_width, relu), then Dense(width), both with biases."""

    def __init__(self, width: int, hidden_width: int, **kwargs):
        super().__init__(**kwargs)
        self.width, self.hidden_width = width, hidden_width
        self.hidden = keras.layers.Dense(hidden_width, activation="relu", name="hidden")
        self.project = keras.layers.Dense(width, name="project")

    def call(self, x):
        return self.project(self.hidden(x))

    def get_config(self):
        return {**super().get_config(), "width": self.width, "hidden_width": self.hidden_width}


def layer_norm(name: str) -> keras.layers.LayerNormalization:
    return keras.layers.LayerNormalization(epsilon=LAYER_NORM_EPSILON, name=name)


@register
class EncoderLayer(keras.layers.Layer):
    """One pre-LayerNorm Transformer encoder layer on x (batch, S, n):
    x <- x + SelfAttention(LN(x)) over the valid source positions; x <- x + FeedForward(LN(x))."""

    def __init__(self, width: int, heads: int, **kwargs):
        super().__init__(**kwargs)
        self.width, self.heads = width, heads
        self.self_norm = layer_norm("self_norm")
        self.self_attend = Attention("multihead", width, heads, name="self_attention")
        self.ff_norm = layer_norm("ff_norm")
        self.ff = FeedForward(width, FF_MULTIPLE * width, name="ff")

    def call(self, x, src_mask):
        normed = self.self_norm(x)
        x = x + self.self_attend(normed, normed, src_mask)[0]
        return x + self.ff(self.ff_norm(x))

    def get_config(self):
        return {**super().get_config(), "width": self.width, "heads": self.heads}


@register
class DecoderLayer(keras.layers.Layer):
    """One pre-LayerNorm Transformer decoder layer on y (batch, T, n):
    y <- y + CausalSelfAttention(LN(y)); x = LN(y), the queries' states;
    y <- y + CrossAttention(x, encoder output); y <- y + FeedForward(LN(y)).

    :meth:`call` returns (y, x (batch, T, n), the cross-attention's weights (batch, H, T, S))."""

    def __init__(self, width: int, heads: int, **kwargs):
        super().__init__(**kwargs)
        self.width, self.heads = width, heads
        self.self_norm = layer_norm("self_norm")
        self.self_attend = Attention("multihead", width, heads, name="self_attention")
        self.cross_norm = layer_norm("cross_norm")
        self.cross_attend = Attention("multihead", width, heads, name="cross_attention")
        self.ff_norm = layer_norm("ff_norm")
        self.ff = FeedForward(width, FF_MULTIPLE * width, name="ff")

    def call(self, y, enc, causal_mask, src_mask):
        normed = self.self_norm(y)
        y = y + self.self_attend(normed, normed, causal_mask)[0]
        queries = self.cross_norm(y)
        context, weights = self.cross_attend(queries, enc, src_mask)
        y = y + context
        return y + self.ff(self.ff_norm(y)), queries, weights

    def get_config(self):
        return {**super().get_config(), "width": self.width, "heads": self.heads}


def causal_mask(length) -> keras.KerasTensor:
    """(1, T, T): step t may attend to steps 0..t."""
    steps = ops.arange(length)
    return (steps[:, None] >= steps[None, :])[None]
