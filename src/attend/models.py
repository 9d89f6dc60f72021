"""The three architectures of PAPER.md §3, in Keras 3 (backend-neutral ``keras.ops``).

* VED: GRU encoder; GRU decoder started from the encoder's state at </s>; readout from
  the decoder state.
* AED: VED plus single-head attention from each decoder state over the valid encoder
  states; readout from [h^D_t ; c_t]. The context does not feed back into the decoder.
* AO: no recurrence. Encoder and decoder states are a position-wise feed-forward map of
  (token + rotated sinusoidal positional encoding); readout from c_t alone.

All readouts are linear without bias, and attention has no biases, so the score of
decoder step t for encoder step s is exactly (h^D_t W_q)·(h^E_s W_k)/sqrt(d), which the
analysis splits into nine terms.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from .architectures import ARCHITECTURES, ATTENTION_KINDS
from .tasks.base import PAD


def register(cls):
    return keras.saving.register_keras_serializable(package="attend")(cls)


@register
class OneHot(keras.layers.Layer):
    """Token ids -> one-hot vectors of a fixed width (at least the vocabulary size)."""

    def __init__(self, depth: int, **kwargs):
        super().__init__(**kwargs)
        self.depth = depth

    def call(self, ids):
        return ops.one_hot(ids, self.depth, dtype=self.compute_dtype)

    def get_config(self):
        return {**super().get_config(), "depth": self.depth}


def rotated_sinusoids(length: int, dim: int, timescale: float, seed: int) -> np.ndarray:
    """Sinusoidal positional encoding (length, dim), rotated by a fixed random orthogonal
    matrix so that its axes do not line up with the one-hot token axes."""
    pos = np.arange(length)[:, None]
    freq = timescale ** (-np.arange(0, dim, 2) / dim)
    table = np.zeros((length, dim))
    table[:, 0::2] = np.sin(pos * freq)
    table[:, 1::2] = np.cos(pos * freq)[:, : dim // 2]
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((dim, dim)))
    rotation = q * np.sign(np.diag(r))  # Haar-distributed orthogonal matrix
    return (table @ rotation).astype("float32")


@register
class PositionalEncoding(keras.layers.Layer):
    """Adds a fixed (non-trainable) rotated sinusoid to each position."""

    def __init__(self, max_len: int, timescale: float, seed: int, **kwargs):
        super().__init__(**kwargs)
        self.max_len, self.timescale, self.seed = max_len, timescale, seed

    def build(self, input_shape):
        dim = input_shape[-1]
        self.table = self.add_weight(
            shape=(self.max_len, dim), trainable=False, name="table",
            initializer=keras.initializers.Constant(rotated_sinusoids(self.max_len, dim, self.timescale, self.seed)),
        )

    def call(self, x):
        return x + self.table[None, : ops.shape(x)[1]]

    def get_config(self):
        return {**super().get_config(), "max_len": self.max_len, "timescale": self.timescale, "seed": self.seed}


@register
class ZeroStateGRU(keras.layers.Layer):
    """A GRU cell applied position-wise from a zero state: AO's optional gated map."""

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.cell = keras.layers.GRUCell(units)

    def build(self, input_shape):
        self.cell.build((None, input_shape[-1]))

    def call(self, x):
        batch, length = ops.shape(x)[0], ops.shape(x)[1]
        flat = ops.reshape(x, (-1, ops.shape(x)[-1]))
        h, _ = self.cell(flat, [ops.zeros((ops.shape(flat)[0], self.units), dtype=x.dtype)])
        return ops.reshape(h, (batch, length, self.units))

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@register
class Attention(keras.layers.Layer):
    """Scaled dot-product attention of one ``kind`` (``attend.architectures.ATTENTION_KINDS``):
    ``learned``: one head with learned Q, K, V (no biases); ``dot``: the parameter-free
    dot product (Q = K = V = identity). Every kind exposes its matrices in kernel
    orientation (q = h @ W_q) through :meth:`matrices`, which is what the analysis reads."""

    def __init__(self, kind: str, key_dim: int, **kwargs):
        super().__init__(**kwargs)
        if kind not in ATTENTION_KINDS:
            raise ValueError(f"unknown attention kind {kind!r}; choose one of {list(ATTENTION_KINDS)}")
        self.kind, self.key_dim = kind, key_dim

    def build(self, dec_states_shape, enc_states_shape=None, enc_mask_shape=None):
        n = dec_states_shape[-1]
        if self.kind == "learned":
            init = keras.initializers.GlorotUniform
            self.w_q = self.add_weight(shape=(n, self.key_dim), initializer=init(), name="w_q")
            self.w_k = self.add_weight(shape=(n, self.key_dim), initializer=init(), name="w_k")
            self.w_v = self.add_weight(shape=(n, n), initializer=init(), name="w_v")
        self.scale = 1.0 / math.sqrt(self.key_dim if self.kind == "learned" else n)
        self.units = n

    def call(self, dec_states, enc_states, enc_mask):
        q, k, v = dec_states, enc_states, enc_states
        if self.kind == "learned":
            q, k, v = q @ self.w_q, k @ self.w_k, v @ self.w_v
        scores = ops.einsum("btd,bsd->bts", q, k) * self.scale
        scores = ops.where(enc_mask[:, None, :], scores, ops.full_like(scores, -1e9))
        weights = ops.softmax(scores, axis=-1)
        return ops.einsum("bts,bsd->btd", weights, v), weights

    def matrices(self) -> dict[str, np.ndarray]:
        """W_q, W_k (n, d), W_v (n, dv) and the score scale."""
        if self.kind == "learned":
            mats = {k: keras.ops.convert_to_numpy(w) for k, w in (("W_q", self.w_q), ("W_k", self.w_k),
                                                                  ("W_v", self.w_v))}
        else:
            eye = np.eye(self.units, dtype="float32")
            mats = {"W_q": eye, "W_k": eye, "W_v": eye}
        return {**mats, "scale": np.float32(self.scale)}

    def get_config(self):
        return {**super().get_config(), "kind": self.kind, "key_dim": self.key_dim}


@register
class Seq2Seq(keras.Model):
    """One encoder-decoder of architecture ``arch``; call it on ``(src_ids, dec_input_ids)``
    to get logits (batch, T, n_tgt); :meth:`internals` also returns the hidden states and
    attention that the probe records."""

    def __init__(
        self, arch: str, n_src: int, n_tgt: int, units: int, *,
        attention: str, input_encoding: str, ff: str, pe_min_dim: int, pe_timescale: float,
        max_len: int, src_len: int, tgt_len: int, identity: dict | None = None, **kwargs,
    ):
        super().__init__(**kwargs)
        # What the model was trained as and from (task, arch, seed, dataset checksum...),
        # saved with it so that whoever loads it can check it is the model they expect.
        self.identity = dict(identity or {})
        if arch not in ARCHITECTURES:
            raise ValueError(f"unknown architecture {arch!r}; choose one of {list(ARCHITECTURES)}")
        self.arch, self.n_src, self.n_tgt, self.units = arch, n_src, n_tgt, units
        self.attention_kind, self.input_encoding, self.ff = attention, input_encoding, ff
        self.pe_min_dim, self.pe_timescale, self.max_len = pe_min_dim, pe_timescale, max_len
        self.src_len, self.tgt_len = src_len, tgt_len

        def embed(n, name):
            if input_encoding == "embedding":
                return keras.layers.Embedding(n, units, name=name)
            # AO pads the one-hot width so the positional encoding has room.
            return OneHot(max(n, pe_min_dim) if arch == "ao" else n, name=name)

        self.src_embed, self.tgt_embed = embed(n_src, "src_embed"), embed(n_tgt, "tgt_embed")
        if arch == "ao":
            # Fixed rotations, one per side: part of the architecture, not a setting.
            self.src_pos = PositionalEncoding(max_len, pe_timescale, seed=0, name="src_pos")
            self.tgt_pos = PositionalEncoding(max_len, pe_timescale, seed=1, name="tgt_pos")
            make_ff = (lambda name: ZeroStateGRU(units, name=name)) if ff == "gru" else \
                      (lambda name: keras.layers.Dense(units, activation="tanh", name=name))
            self.encoder, self.decoder = make_ff("encoder"), make_ff("decoder")
        else:
            self.encoder = keras.layers.GRU(units, return_sequences=True, return_state=True, name="encoder")
            self.decoder = keras.layers.GRU(units, return_sequences=True, name="decoder")
        if arch != "ved":
            self.attend = Attention(attention, units, name="attention")
        self.readout = keras.layers.Dense(n_tgt, use_bias=False, name="readout")

    def build(self, input_shape=None):
        self.internals(ops.zeros((1, self.src_len), "int32"), ops.zeros((1, self.tgt_len), "int32"))
        self.built = True

    def internals(self, src, dec_in) -> dict:
        """Every quantity the analysis needs, for a batch of (source, decoder input) ids."""
        src_mask = ops.not_equal(src, PAD)
        x, y = self.src_embed(src), self.tgt_embed(dec_in)
        out = {}
        if self.arch == "ao":
            enc = self.encoder(self.src_pos(x))
            dec = self.decoder(self.tgt_pos(y))
        else:
            enc, final = self.encoder(x, mask=src_mask)  # final: the state at </s>
            dec = self.decoder(y, initial_state=final)
        out["enc_states"], out["dec_states"] = enc, dec
        if self.arch == "ved":
            features = dec
        else:
            context, weights = self.attend(dec, enc, src_mask)
            out["attention"] = weights
            features = context if self.arch == "ao" else ops.concatenate([dec, context], axis=-1)
        out["logits"] = self.readout(features)
        return out

    def call(self, inputs, training=False):
        src, dec_in = inputs
        return self.internals(src, dec_in)["logits"]

    def get_config(self):
        return {
            "arch": self.arch, "n_src": self.n_src, "n_tgt": self.n_tgt, "units": self.units,
            "attention": self.attention_kind, "input_encoding": self.input_encoding, "ff": self.ff,
            "pe_min_dim": self.pe_min_dim, "pe_timescale": self.pe_timescale,
            "max_len": self.max_len, "src_len": self.src_len, "tgt_len": self.tgt_len, "identity": self.identity,
        }

    def matrices(self) -> dict[str, np.ndarray]:
        """The matrices the analysis reads, in kernel orientation (q = h @ W_q)."""
        mats = {"W_out": keras.ops.convert_to_numpy(self.readout.kernel)}
        if self.arch != "ved":
            mats.update(self.attend.matrices())
        return mats


def build_model(arch: str, n_src: int, n_tgt: int, src_len: int, tgt_len: int, model_cfg: dict) -> Seq2Seq:
    """The model of one architecture for a dataset of these vocabulary sizes and padded
    lengths, with the config's ``model`` settings."""
    return Seq2Seq(
        arch, n_src, n_tgt, model_cfg["units"], attention=model_cfg["attention"],
        input_encoding=model_cfg["input_encoding"], ff=model_cfg["ao_ff"],
        pe_min_dim=model_cfg["pe_min_dim"], pe_timescale=model_cfg["pe_timescale"],
        max_len=max(src_len, tgt_len), src_len=src_len, tgt_len=tgt_len, name=arch,
    )
