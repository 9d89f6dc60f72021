"""The paper's three architectures (docs/science.md §3) as one model class, :class:`Seq2Seq`,
which reads what to build from the architecture's declaration (``attend.architectures``):
whether it attends, whether its states are recurrent, what its readout reads.

* VED: recurrent encoder; recurrent decoder started from the encoder's final state (at
  </s>); readout from the decoder state.
* AED: VED plus attention from each decoder state over the valid encoder states; readout
  from [h^D_t ; c_t]. The context does not feed back into the decoder.
* AO: no recurrence. Encoder and decoder states are a position-wise feed-forward map of
  (token + rotated sinusoidal positional encoding); readout from c_t alone.

The recurrent cell of VED and AED is ``model.cell`` (``attend.architectures.CELLS``):
``gru`` (keras.layers.GRU), ``lstm`` (keras.layers.LSTM) or ``simple``
(keras.layers.SimpleRNN, tanh). For an LSTM the encoder's final state handed to the
decoder is [h, c], while the states the model returns, the probe records and the
analysis decomposes are the hidden states h, never the cell state c. AO has no
recurrence: ``model.ao_ff`` picks its position-wise map.

All readouts are linear without bias, and attention has no biases, so the score of
decoder step t for encoder step s is exactly (h^D_t W_q)·(h^E_s W_k)/sqrt(d), which the
analysis splits into nine terms; with ``multihead`` attention this holds head by head,
(h^D_t W_q^h)·(h^E_s W_k^h)/sqrt(d_h) for each head h.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from ..architectures import CELLS
from ..tokens import PAD
from .base import EncoderDecoder, renamed_width
from .layers import Attention, OneHot, PositionalEncoding, ZeroStateGRU, register

# The Keras recurrent layer of each model.cell.
RECURRENT_LAYERS = {"gru": keras.layers.GRU, "lstm": keras.layers.LSTM, "simple": keras.layers.SimpleRNN}
assert set(RECURRENT_LAYERS) == set(CELLS), "every cell of attend.architectures.CELLS needs its Keras layer"


@register
class Seq2Seq(EncoderDecoder):
    """One encoder and one decoder, recurrent or position-wise, with or without one attention
    from the decoder over the encoder (the architectures whose declaration names the module
    ``seq2seq``). ``attention`` is the kind of that attention, ``heads`` its heads when it is
    ``multihead``; ``input_encoding`` is how tokens enter (one-hot, padded to ``pe_min_dim``
    where a positional encoding is added, or a learned embedding); ``ff`` the position-wise
    map of a non-recurrent architecture, ``cell`` the cell of a recurrent one; ``max_len``
    the positions of the stored positional table."""

    def __init__(
        self,
        arch: str,
        n_src: int,
        n_tgt: int,
        width: int,
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
        identity: dict | None = None,
        **kwargs,
    ):
        super().__init__(arch, n_src, n_tgt, width, src_len=src_len, tgt_len=tgt_len, identity=identity, **kwargs)
        spec = self.architecture
        if spec.attention == (spec.readout == "state"):
            raise ValueError(f"architecture {arch!r}: Seq2Seq reads a context exactly when it attends")
        self.attention_kind, self.input_encoding, self.ff = attention, input_encoding, ff
        self.pe_min_dim, self.pe_timescale, self.max_len = pe_min_dim, pe_timescale, max_len
        if cell not in RECURRENT_LAYERS:
            raise ValueError(f"unknown recurrent cell {cell!r}; choose one of {list(RECURRENT_LAYERS)}")
        self.cell, self.heads = cell, heads

        def embed(n, name):
            if input_encoding == "embedding":
                return keras.layers.Embedding(n, width, name=name)
            # Pad the one-hot width so that a positional encoding has room.
            return OneHot(n if spec.recurrent else max(n, pe_min_dim), name=name)

        self.src_embed, self.tgt_embed = embed(n_src, "src_embed"), embed(n_tgt, "tgt_embed")
        if spec.recurrent:
            rnn = RECURRENT_LAYERS[cell]
            self.encoder = rnn(width, return_sequences=True, return_state=True, name="encoder")
            self.decoder = rnn(width, return_sequences=True, name="decoder")
        else:
            # Fixed rotations, one per side: part of the architecture, not a setting.
            self.src_pos = PositionalEncoding(max_len, pe_timescale, seed=0, name="src_pos")
            self.tgt_pos = PositionalEncoding(max_len, pe_timescale, seed=1, name="tgt_pos")
            self.encoder, self.decoder = self.position_wise("encoder"), self.position_wise("decoder")
        if spec.attention:
            self.attend = Attention(attention, width, heads, name="attention")
        self.readout = keras.layers.Dense(n_tgt, use_bias=False, name="readout")

    def position_wise(self, name: str) -> keras.layers.Layer:
        """The map of each position's (token + position) to its state, (batch, L, dim) -> (batch, L, n)."""
        if self.ff == "gru":
            return ZeroStateGRU(self.width, name=name)
        return keras.layers.Dense(self.width, activation="tanh", name=name)

    @classmethod
    def from_settings(cls, arch, n_src, n_tgt, src_len, tgt_len, model_cfg):
        return cls(
            arch,
            n_src,
            n_tgt,
            model_cfg["units"],
            attention=model_cfg["attention"],
            input_encoding=model_cfg["input_encoding"],
            ff=model_cfg["ao_ff"],
            cell=model_cfg["cell"],
            heads=model_cfg["heads"],
            pe_min_dim=model_cfg["pe_min_dim"],
            pe_timescale=model_cfg["pe_timescale"],
            max_len=max(src_len, tgt_len),
            src_len=src_len,
            tgt_len=tgt_len,
            name=arch,
        )

    def internals(self, src, dec_in) -> dict:
        """``logits`` (batch, T, n_tgt), ``enc_states`` (batch, S, n) and ``dec_states``
        (batch, T, n) (the hidden states h, for an LSTM too), and where the architecture
        attends ``attention`` (batch, T, S). With ``multihead`` attention, ``attention`` is
        the uniform mean of the heads' weights and ``head_attention`` (batch, heads, T, S)
        holds each head's own."""
        spec = self.architecture
        src_mask = ops.not_equal(src, PAD)  # (batch, S)
        src_tokens, tgt_tokens = self.src_embed(src), self.tgt_embed(dec_in)
        if spec.recurrent:
            # final: the state at </s>, [h] (GRU, simple) or [h, c] (LSTM); enc_states holds h only
            enc_states, *final = self.encoder(src_tokens, mask=src_mask)
            dec_states = self.decoder(tgt_tokens, initial_state=final)
        else:
            enc_states = self.encoder(self.src_pos(src_tokens))
            dec_states = self.decoder(self.tgt_pos(tgt_tokens))
        out = {"enc_states": enc_states, "dec_states": dec_states}
        if spec.attention:
            context, weights = self.attend(dec_states, enc_states, src_mask)  # (batch, T, n), weights
            if self.attention_kind == "multihead":
                out["head_attention"], weights = weights, ops.mean(weights, axis=1)
            out["attention"] = weights  # (batch, T, S)
        if spec.readout == "state":
            features = dec_states
        elif spec.readout == "context":
            features = context
        else:  # state_and_context
            features = ops.concatenate([dec_states, context], axis=-1)
        out["logits"] = self.readout(features)
        return out

    def matrices(self) -> dict[str, np.ndarray]:
        """The attention's matrices (:meth:`Attention.matrices`), its kind, and ``W_c``
        (n, n_tgt), the rows of the readout that read the context. None without attention."""
        spec = self.architecture
        if not spec.attention:
            return {}
        readout = keras.ops.convert_to_numpy(self.readout.kernel)
        return {
            **self.attend.matrices(),
            "attention_kind": np.array(self.attention_kind),
            "W_c": readout[self.width :] if spec.readout == "state_and_context" else readout,
        }

    def get_config(self):
        return {
            **super().get_config(),
            "attention": self.attention_kind,
            "input_encoding": self.input_encoding,
            "ff": self.ff,
            "pe_min_dim": self.pe_min_dim,
            "pe_timescale": self.pe_timescale,
            "max_len": self.max_len,
            "cell": self.cell,
            "heads": self.heads,
        }

    @classmethod
    def from_config(cls, config):
        from . import model_class

        config = renamed_width(config)
        if model_class(config["arch"]) is not cls:  # a Transformer saved as a Seq2Seq (before the split)
            return model_class(config["arch"]).from_config(config)
        # Models saved before model.cell and model.heads existed were GRU with one head;
        # n_layers, which only the Transformer read, was saved by every model once.
        config = {k: v for k, v in config.items() if k != "n_layers"}
        return cls(**{"cell": "gru", "heads": 1, **config})


MODEL = Seq2Seq  # the class attend.models.build_model builds for the architectures that name this module
