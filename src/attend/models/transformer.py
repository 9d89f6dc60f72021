"""The encoder-decoder Transformer (architecture ``tfm``, docs/transformer.md), :class:`Transformer`.

Token embedding + AO's rotated sinusoidal positional encoding; ``model.layers`` pre-LayerNorm
encoder layers (self-attention, then a position-wise feed-forward) and as many decoder
layers (causal self-attention, cross-attention over the encoder's output, feed-forward),
``model.heads`` heads in every attention; a final LayerNorm on each side; readout from the
decoder's final state.

The cross-attention has no biases: head h of decoder layer l scores
(x^l_t W_q^{l,h})·(e_s W_k^{l,h})/sqrt(d_h), with x^l_t the state entering layer l's
cross-attention (after its LayerNorm) and e_s the encoder's final (normalised) output, which
the analysis splits into nine terms for every (layer, head).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from ..tokens import PAD
from .base import EncoderDecoder, renamed_width
from .layers import DecoderLayer, EncoderLayer, PositionalEncoding, causal_mask, layer_norm, register


@register
class Transformer(EncoderDecoder):
    """``n_layers`` encoder and as many decoder layers of ``heads`` heads each, over a learned
    embedding plus a rotated sinusoid (``pe_timescale``; ``max_len`` positions stored)."""

    def __init__(
        self,
        arch: str,
        n_src: int,
        n_tgt: int,
        width: int,
        *,
        heads: int,
        n_layers: int,
        pe_timescale: float,
        max_len: int,
        src_len: int,
        tgt_len: int,
        identity: dict | None = None,
        **kwargs,
    ):
        super().__init__(arch, n_src, n_tgt, width, src_len=src_len, tgt_len=tgt_len, identity=identity, **kwargs)
        self.heads, self.n_layers, self.pe_timescale, self.max_len = heads, n_layers, pe_timescale, max_len
        if not isinstance(n_layers, (int, np.integer)) or isinstance(n_layers, bool) or n_layers < 1:
            raise ValueError(f"model.layers must be a positive integer, got {n_layers!r}")

        # A learned embedding (one-hot times a matrix) of N(0, 1) entries, so that a token
        # enters at the scale of the positional encoding (each of its coordinates ~ 0.7).
        def embed(n, name):
            return keras.layers.Embedding(
                n, width, embeddings_initializer=keras.initializers.RandomNormal(stddev=1.0), name=name
            )

        self.src_embed, self.tgt_embed = embed(n_src, "src_embed"), embed(n_tgt, "tgt_embed")
        self.src_pos = PositionalEncoding(max_len, pe_timescale, seed=0, name="src_pos")
        self.tgt_pos = PositionalEncoding(max_len, pe_timescale, seed=1, name="tgt_pos")
        self.encoder_layers = [EncoderLayer(width, heads, name=f"encoder_{i}") for i in range(n_layers)]
        self.encoder_norm = layer_norm("encoder_norm")
        self.decoder_layers = [DecoderLayer(width, heads, name=f"decoder_{i}") for i in range(n_layers)]
        self.decoder_norm = layer_norm("decoder_norm")
        self.readout = keras.layers.Dense(n_tgt, use_bias=False, name="readout")

    @classmethod
    def from_settings(cls, arch, n_src, n_tgt, src_len, tgt_len, model_cfg):
        return cls(
            arch,
            n_src,
            n_tgt,
            model_cfg["units"],
            heads=model_cfg["heads"],
            n_layers=model_cfg["layers"],
            pe_timescale=model_cfg["pe_timescale"],
            max_len=max(src_len, tgt_len),
            src_len=src_len,
            tgt_len=tgt_len,
            name=arch,
        )

    def internals(self, src, dec_in) -> dict:
        """``enc_states`` (batch, S, n), the encoder's final normalised output (what every
        cross-attention's keys read); ``dec_states`` (batch, T, n), the decoder's final
        normalised output (what the readout reads); ``layer_states`` (batch, L, T, n), the
        states entering each decoder layer's cross-attention (after its LayerNorm);
        ``layer_attention`` (batch, L, H, T, S); ``attention`` (batch, T, S), their uniform
        mean; ``logits`` (batch, T, n_tgt)."""
        src_mask = ops.not_equal(src, PAD)  # (batch, S)
        src_tokens, tgt_tokens = self.src_embed(src), self.tgt_embed(dec_in)
        enc_states = self.src_pos(src_tokens)
        for layer in self.encoder_layers:
            enc_states = layer(enc_states, src_mask)
        enc_states = self.encoder_norm(enc_states)
        residual, queries, weights = self.tgt_pos(tgt_tokens), [], []
        causal = causal_mask(ops.shape(dec_in)[1])
        for layer in self.decoder_layers:
            residual, layer_queries, layer_weights = layer(residual, enc_states, causal, src_mask)
            queries.append(layer_queries)
            weights.append(layer_weights)
        dec_states = self.decoder_norm(residual)
        layer_attention = ops.stack(weights, axis=1)
        return {
            "enc_states": enc_states,
            "dec_states": dec_states,
            "layer_states": ops.stack(queries, axis=1),
            "layer_attention": layer_attention,
            "attention": ops.mean(layer_attention, axis=(1, 2)),
            "logits": self.readout(dec_states),
        }

    def matrices(self) -> dict[str, np.ndarray]:
        """The probe's matrices (``attend.probe``, the ``layers`` form):

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
        n = self.width
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

    def get_config(self):
        return {
            **super().get_config(),
            "heads": self.heads,
            "n_layers": self.n_layers,
            "pe_timescale": self.pe_timescale,
            "max_len": self.max_len,
        }

    @classmethod
    def from_config(cls, config):
        # A Transformer saved as a Seq2Seq (before the split) also saved the settings only
        # the other architectures read.
        config = renamed_width(config)
        unread = ("attention", "input_encoding", "ff", "pe_min_dim", "cell")
        return cls(**{k: v for k, v in config.items() if k not in unread})


MODEL = Transformer  # the class attend.models.build_model builds for the architectures that name this module
