"""The three architectures of docs/science.md §3, in Keras 3 (backend-neutral ``keras.ops``).

* VED: recurrent encoder; recurrent decoder started from the encoder's final state (at
  </s>); readout from the decoder state.
* AED: VED plus attention from each decoder state over the valid encoder states; readout
  from [h^D_t ; c_t]. The context does not feed back into the decoder.
* AO: no recurrence. Encoder and decoder states are a position-wise feed-forward map of
  (token + rotated sinusoidal positional encoding); readout from c_t alone.
* Transformer (``tfm``, docs/transformer.md): token embedding + AO's rotated sinusoidal
  positional encoding; ``model.layers`` pre-LayerNorm encoder layers (self-attention, then
  a position-wise feed-forward) and as many decoder layers (causal self-attention,
  cross-attention over the encoder's output, feed-forward), ``model.heads`` heads in every
  attention; a final LayerNorm on each side; readout from the decoder's final state.

The recurrent cell of VED and AED is ``model.cell`` (``attend.architectures.CELLS``):
``gru`` (keras.layers.GRU), ``lstm`` (keras.layers.LSTM) or ``simple``
(keras.layers.SimpleRNN, tanh). For an LSTM the encoder's final state handed to the
decoder is [h, c], while the states the model returns, the probe records and the
analysis decomposes are the hidden states h, never the cell state c. AO has no
recurrence: ``model.ao_ff`` picks its position-wise map.

All readouts are linear without bias, and attention has no biases, so the score of
decoder step t for encoder step s is exactly (h^D_t W_q)·(h^E_s W_k)/sqrt(d), which the
analysis splits into nine terms; with ``multihead`` attention this holds head by head,
(h^D_t W_q^h)·(h^E_s W_k^h)/sqrt(d_h) for each head h. The Transformer's cross-attention
has no biases either: head h of decoder layer l scores (x^l_t W_q^{l,h})·(e_s W_k^{l,h})/sqrt(d_h),
with x^l_t the state entering layer l's cross-attention (after its LayerNorm) and e_s the
encoder's final (normalised) output.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from .architectures import ARCHITECTURES, ATTENTION_KINDS, CELLS
from .tokens import PAD

# The Keras recurrent layer of each model.cell.
RECURRENT_LAYERS = {"gru": keras.layers.GRU, "lstm": keras.layers.LSTM, "simple": keras.layers.SimpleRNN}
assert set(RECURRENT_LAYERS) == set(CELLS), "every cell of attend.architectures.CELLS needs its Keras layer"


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
            shape=(self.max_len, dim),
            trainable=False,
            name="table",
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

    * ``learned``: one head with learned Q, K, V (no biases), d = ``key_dim``;
    * ``dot``: the parameter-free dot product (Q = K = V = identity), d = n;
    * ``multihead``: ``heads`` heads of d_h = ``key_dim // heads`` dimensions. Head h has its
      own W_q^h, W_k^h, W_v^h (n, d_h), score_h = (h^D W_q^h)·(h^E W_k^h)/sqrt(d_h) and a
      softmax of its own; the context is concat_h(α_h V_h) W_o, with W_o (heads·d_h, n).
      No biases anywhere.

    :meth:`call` returns (context (batch, T, n), weights). The weights are (batch, T, S) for
    the single-head kinds and (batch, heads, T, S) for ``multihead`` (the model also
    reports their uniform mean over heads, see :meth:`Seq2Seq.internals`).

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
            width = self.heads * self.head_dim
            self.w_q = self.add_weight(shape=(n, width), initializer=init(), name="w_q")
            self.w_k = self.add_weight(shape=(n, width), initializer=init(), name="w_k")
            self.w_v = self.add_weight(shape=(n, width), initializer=init(), name="w_v")
            self.w_o = self.add_weight(shape=(width, n), initializer=init(), name="w_o")
        d = {"learned": self.key_dim, "dot": n, "multihead": self.head_dim}[self.kind]
        self.scale = 1.0 / math.sqrt(d)
        self.units = n

    def _split(self, w):
        """(n, heads·d_h) -> (n, heads, d_h)."""
        return ops.reshape(w, (self.units, self.heads, self.head_dim))

    def call(self, dec_states, enc_states, enc_mask):
        """``enc_mask`` is (batch, S), which source positions may be attended, or (batch or
        1, T, S), which may be attended from each step (a causal mask)."""
        if self.kind == "multihead":
            scores = self.scores(dec_states, enc_states)
            v = ops.einsum("bsn,nhd->bhsd", enc_states, self._split(self.w_v))
            mask = enc_mask[:, None, None, :] if len(enc_mask.shape) == 2 else enc_mask[:, None]
            scores = ops.where(mask, scores, ops.full_like(scores, -1e9))
            weights = ops.softmax(scores, axis=-1)  # (batch, heads, T, S)
            heads_out = ops.einsum("bhts,bhsd->bhtd", weights, v)
            w_o = ops.reshape(self.w_o, (self.heads, self.head_dim, self.units))
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
            eye = np.eye(self.units, dtype="float32")
            mats = {"W_q": eye, "W_k": eye, "W_v": eye}
        return {**mats, "scale": np.float32(self.scale)}

    def by_head(self, w: np.ndarray) -> np.ndarray:
        """(n, heads·d_h), the heads side by side -> (heads, n, d_h)."""
        return np.ascontiguousarray(w.reshape(self.units, self.heads, self.head_dim).transpose(1, 0, 2))

    def get_config(self):
        return {**super().get_config(), "kind": self.kind, "key_dim": self.key_dim, "heads": self.heads}


# The Transformer's feed-forward width, as a multiple of model.units (Vaswani et al. 2017).
FF_MULTIPLE = 4
LAYER_NORM_EPSILON = 1e-5


@register
class FeedForward(keras.layers.Layer):
    """A Transformer layer's position-wise feed-forward block: Dense(width, relu), then
    Dense(units), both with biases."""

    def __init__(self, units: int, width: int, **kwargs):
        super().__init__(**kwargs)
        self.units, self.width = units, width
        self.hidden = keras.layers.Dense(width, activation="relu", name="hidden")
        self.project = keras.layers.Dense(units, name="project")

    def call(self, x):
        return self.project(self.hidden(x))

    def get_config(self):
        return {**super().get_config(), "units": self.units, "width": self.width}


def layer_norm(name: str) -> keras.layers.LayerNormalization:
    return keras.layers.LayerNormalization(epsilon=LAYER_NORM_EPSILON, name=name)


@register
class EncoderLayer(keras.layers.Layer):
    """One pre-LayerNorm Transformer encoder layer:
    x <- x + SelfAttention(LN(x)) over the valid source positions; x <- x + FeedForward(LN(x))."""

    def __init__(self, units: int, heads: int, **kwargs):
        super().__init__(**kwargs)
        self.units, self.heads = units, heads
        self.self_norm = layer_norm("self_norm")
        self.self_attend = Attention("multihead", units, heads, name="self_attention")
        self.ff_norm = layer_norm("ff_norm")
        self.ff = FeedForward(units, FF_MULTIPLE * units, name="ff")

    def call(self, x, src_mask):
        normed = self.self_norm(x)
        x = x + self.self_attend(normed, normed, src_mask)[0]
        return x + self.ff(self.ff_norm(x))

    def get_config(self):
        return {**super().get_config(), "units": self.units, "heads": self.heads}


@register
class DecoderLayer(keras.layers.Layer):
    """One pre-LayerNorm Transformer decoder layer:
    y <- y + CausalSelfAttention(LN(y)); x = LN(y), the queries' states;
    y <- y + CrossAttention(x, encoder output); y <- y + FeedForward(LN(y)).

    :meth:`call` returns (y, x (batch, T, n), the cross-attention's weights (batch, H, T, S))."""

    def __init__(self, units: int, heads: int, **kwargs):
        super().__init__(**kwargs)
        self.units, self.heads = units, heads
        self.self_norm = layer_norm("self_norm")
        self.self_attend = Attention("multihead", units, heads, name="self_attention")
        self.cross_norm = layer_norm("cross_norm")
        self.cross_attend = Attention("multihead", units, heads, name="cross_attention")
        self.ff_norm = layer_norm("ff_norm")
        self.ff = FeedForward(units, FF_MULTIPLE * units, name="ff")

    def call(self, y, enc, causal_mask, src_mask):
        normed = self.self_norm(y)
        y = y + self.self_attend(normed, normed, causal_mask)[0]
        queries = self.cross_norm(y)
        context, weights = self.cross_attend(queries, enc, src_mask)
        y = y + context
        return y + self.ff(self.ff_norm(y)), queries, weights

    def get_config(self):
        return {**super().get_config(), "units": self.units, "heads": self.heads}


def causal_mask(length) -> keras.KerasTensor:
    """(1, T, T): step t may attend to steps 0..t."""
    steps = ops.arange(length)
    return (steps[:, None] >= steps[None, :])[None]


@register
class Seq2Seq(keras.Model):
    """One encoder-decoder of architecture ``arch``; call it on ``(src_ids, dec_input_ids)``
    to get logits (batch, T, n_tgt); :meth:`internals` also returns the hidden states and
    attention that the probe records. ``cell`` is the recurrent cell of VED and AED
    (AO ignores it), ``heads`` the number of heads of ``multihead`` attention (other
    kinds ignore it) and of every attention of the Transformer, ``n_layers`` the
    Transformer's encoder and decoder layers (the others ignore it)."""

    def __init__(
        self,
        arch: str,
        n_src: int,
        n_tgt: int,
        units: int,
        *,
        attention: str,
        input_encoding: str,
        ff: str,
        pe_min_dim: int,
        pe_timescale: float,
        max_len: int,
        src_len: int,
        tgt_len: int,
        cell: str,
        heads: int,
        n_layers: int,
        identity: dict | None = None,
        **kwargs,
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
        if cell not in RECURRENT_LAYERS:
            raise ValueError(f"unknown recurrent cell {cell!r}; choose one of {list(RECURRENT_LAYERS)}")
        self.cell, self.heads, self.n_layers = cell, heads, n_layers
        if arch == "tfm":
            self._build_transformer()
            return

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
            make_ff = (
                (lambda name: ZeroStateGRU(units, name=name))
                if ff == "gru"
                else (lambda name: keras.layers.Dense(units, activation="tanh", name=name))
            )
            self.encoder, self.decoder = make_ff("encoder"), make_ff("decoder")
        else:
            rnn = RECURRENT_LAYERS[cell]
            self.encoder = rnn(units, return_sequences=True, return_state=True, name="encoder")
            self.decoder = rnn(units, return_sequences=True, name="decoder")
        if arch != "ved":
            self.attend = Attention(attention, units, heads, name="attention")
        self.readout = keras.layers.Dense(n_tgt, use_bias=False, name="readout")

    def _build_transformer(self):
        if not isinstance(self.n_layers, (int, np.integer)) or isinstance(self.n_layers, bool) or self.n_layers < 1:
            raise ValueError(f"model.layers must be a positive integer, got {self.n_layers!r}")

        # A learned embedding (one-hot times a matrix) of N(0, 1) entries, so that a token
        # enters at the scale of the positional encoding (each of its coordinates ~ 0.7).
        def embed(n, name):
            return keras.layers.Embedding(
                n, self.units, embeddings_initializer=keras.initializers.RandomNormal(stddev=1.0), name=name
            )

        self.src_embed, self.tgt_embed = embed(self.n_src, "src_embed"), embed(self.n_tgt, "tgt_embed")
        self.src_pos = PositionalEncoding(self.max_len, self.pe_timescale, seed=0, name="src_pos")
        self.tgt_pos = PositionalEncoding(self.max_len, self.pe_timescale, seed=1, name="tgt_pos")
        self.encoder_layers = [EncoderLayer(self.units, self.heads, name=f"encoder_{i}") for i in range(self.n_layers)]
        self.encoder_norm = layer_norm("encoder_norm")
        self.decoder_layers = [DecoderLayer(self.units, self.heads, name=f"decoder_{i}") for i in range(self.n_layers)]
        self.decoder_norm = layer_norm("decoder_norm")
        self.readout = keras.layers.Dense(self.n_tgt, use_bias=False, name="readout")

    def build(self, input_shape=None):
        self.internals(ops.zeros((1, self.src_len), "int32"), ops.zeros((1, self.tgt_len), "int32"))
        self.built = True

    def internals(self, src, dec_in) -> dict:
        """Every quantity the analysis needs, for a batch of (source, decoder input) ids:
        ``logits``, ``enc_states`` (batch, S, n) and ``dec_states`` (batch, T, n) (the hidden
        states h, for an LSTM too), and for AED and AO ``attention`` (batch, T, S). With
        ``multihead`` attention, ``attention`` is the uniform mean of the heads' weights
        and ``head_attention`` (batch, heads, T, S) holds each head's own."""
        src_mask = ops.not_equal(src, PAD)
        x, y = self.src_embed(src), self.tgt_embed(dec_in)
        if self.arch == "tfm":
            return self._transformer_internals(x, y, src_mask)
        out = {}
        if self.arch == "ao":
            enc = self.encoder(self.src_pos(x))
            dec = self.decoder(self.tgt_pos(y))
        else:
            # final: the state at </s>, [h] (GRU, simple) or [h, c] (LSTM); enc holds h only
            enc, *final = self.encoder(x, mask=src_mask)
            dec = self.decoder(y, initial_state=final)
        out["enc_states"], out["dec_states"] = enc, dec
        if self.arch == "ved":
            features = dec
        else:
            context, weights = self.attend(dec, enc, src_mask)
            if self.attention_kind == "multihead":
                out["head_attention"], weights = weights, ops.mean(weights, axis=1)
            out["attention"] = weights
            features = context if self.arch == "ao" else ops.concatenate([dec, context], axis=-1)
        out["logits"] = self.readout(features)
        return out

    def _transformer_internals(self, x, y, src_mask) -> dict:
        """The Transformer's :meth:`internals`: ``enc_states``, the encoder's final normalised
        output (what every cross-attention's keys read); ``dec_states``, the decoder's final
        normalised output (what the readout reads); ``layer_states`` (batch, L, T, n), the
        states entering each decoder layer's cross-attention (after its LayerNorm);
        ``layer_attention`` (batch, L, H, T, S); ``attention``, their uniform mean."""
        enc = self.src_pos(x)
        for layer in self.encoder_layers:
            enc = layer(enc, src_mask)
        enc = self.encoder_norm(enc)
        dec, queries, weights = self.tgt_pos(y), [], []
        causal = causal_mask(ops.shape(y)[1])
        for layer in self.decoder_layers:
            dec, layer_queries, layer_weights = layer(dec, enc, causal, src_mask)
            queries.append(layer_queries)
            weights.append(layer_weights)
        dec = self.decoder_norm(dec)
        layer_attention = ops.stack(weights, axis=1)
        return {
            "enc_states": enc,
            "dec_states": dec,
            "layer_states": ops.stack(queries, axis=1),
            "layer_attention": layer_attention,
            "attention": ops.mean(layer_attention, axis=(1, 2)),
            "logits": self.readout(dec),
        }

    def call(self, inputs, training=False):
        src, dec_in = inputs
        return self.internals(src, dec_in)["logits"]

    def get_config(self):
        return {
            "arch": self.arch,
            "n_src": self.n_src,
            "n_tgt": self.n_tgt,
            "units": self.units,
            "attention": self.attention_kind,
            "input_encoding": self.input_encoding,
            "ff": self.ff,
            "pe_min_dim": self.pe_min_dim,
            "pe_timescale": self.pe_timescale,
            "max_len": self.max_len,
            "src_len": self.src_len,
            "tgt_len": self.tgt_len,
            "cell": self.cell,
            "heads": self.heads,
            "n_layers": self.n_layers,
            "identity": self.identity,
        }

    @classmethod
    def from_config(cls, config):
        # Models saved before model.cell, model.heads and model.layers existed were GRU with
        # one head (and no Transformer, which alone reads n_layers).
        return cls(**{"cell": "gru", "heads": 1, "n_layers": 1, **config})

    def matrices(self) -> dict[str, np.ndarray]:
        """What the probe records of the weights, in kernel orientation (q = h @ W_q): the
        attention's matrices (:meth:`Attention.matrices`), its kind, and ``W_c``, the rows
        of the readout that read the context (AED reads [h^D; c], AO c alone). VED has none."""
        if self.arch == "ved":
            return {}
        if self.arch == "tfm":
            return self._transformer_matrices()
        readout = keras.ops.convert_to_numpy(self.readout.kernel)
        return {
            **self.attend.matrices(),
            "attention_kind": np.array(self.attention_kind),
            "W_c": readout[self.units :] if self.arch == "aed" else readout,
        }

    def _transformer_matrices(self) -> dict[str, np.ndarray]:
        """The Transformer's probe matrices (``attend.probe``, the ``layers`` form):

        * ``layer_W_q``, ``layer_W_k`` (L, H, n, d_h): head h of decoder layer l scores
          (layer_states[:, l] @ layer_W_q[l, h])·(enc_states @ layer_W_k[l, h]) × scale,
          exactly (no biases);
        * ``W_v`` (n, n), the direct value path: the sum over layers of each cross-attention's
          value map through its output projection, concat_h(W_v^{l,h}) W_o^l. A context
          written into the residual stream by every layer at once reaches the final
          LayerNorm through it, leaving out every later feed-forward block and LayerNorm;
        * ``W_c`` (n, V_tgt): the final LayerNorm's linear part (centring, then its gain)
          followed by the readout, so that x @ W_c is the logits of a residual-stream
          vector x up to the LayerNorm's positive 1/σ scale and its β-bias term.

        With every head of every layer attending to the same position, ``W_v`` then
        ``W_c`` is how that position's encoder state reaches the logits directly (as
        direct logit attribution reads a Transformer); docs/transformer.md."""

        def numpy(w):
            return keras.ops.convert_to_numpy(w)

        cross = [layer.cross_attend for layer in self.decoder_layers]
        n = self.units
        centre = np.eye(n, dtype=np.float32) - np.float32(1.0 / n)
        gain = numpy(self.decoder_norm.gamma)
        return {
            "layer_W_q": np.stack([a.by_head(numpy(a.w_q)) for a in cross]),
            "layer_W_k": np.stack([a.by_head(numpy(a.w_k)) for a in cross]),
            "layers": np.array(len(cross), dtype=np.int32),
            "heads": np.array(self.heads, dtype=np.int32),
            "scale": np.float32(cross[0].scale),
            "attention_kind": np.array("multihead"),
            "W_v": np.sum([numpy(a.w_v) @ numpy(a.w_o) for a in cross], axis=0).astype(np.float32),
            "W_c": ((centre * gain[None, :]) @ numpy(self.readout.kernel)).astype(np.float32),
        }


def build_model(arch: str, n_src: int, n_tgt: int, src_len: int, tgt_len: int, model_cfg: dict) -> Seq2Seq:
    """The model of one architecture for a dataset of these vocabulary sizes and padded
    lengths, with the config's ``model`` settings."""
    return Seq2Seq(
        arch,
        n_src,
        n_tgt,
        model_cfg["units"],
        attention=model_cfg["attention"],
        input_encoding=model_cfg["input_encoding"],
        ff=model_cfg["ao_ff"],
        cell=model_cfg["cell"],
        heads=model_cfg["heads"],
        n_layers=model_cfg["layers"],
        pe_min_dim=model_cfg["pe_min_dim"],
        pe_timescale=model_cfg["pe_timescale"],
        max_len=max(src_len, tgt_len),
        src_len=src_len,
        tgt_len=tgt_len,
        name=arch,
    )
