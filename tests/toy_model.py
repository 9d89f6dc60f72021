"""A fifth architecture's model module, written the way docs/extending.md says: AED with a
bidirectional GRU encoder (each encoder state the forward and backward halves side by side)
and a decoder started from a zero state; readout from [h^D_t ; c_t]. Its own module of
``attend.models`` in a real extension; tests/test_models.py installs this file as
``attend.models.toy_model`` and declares the architecture ``bi`` beside the others."""

import keras
import numpy as np
from keras import ops

from attend.models.base import EncoderDecoder
from attend.models.layers import Attention, register
from attend.tokens import PAD


@register
class BidirectionalEncoderDecoder(EncoderDecoder):
    def __init__(self, arch, n_src, n_tgt, width, *, src_len, tgt_len, identity=None, **kwargs):
        super().__init__(arch, n_src, n_tgt, width, src_len=src_len, tgt_len=tgt_len, identity=identity, **kwargs)
        self.src_embed = keras.layers.Embedding(n_src, width, name="src_embed")
        self.tgt_embed = keras.layers.Embedding(n_tgt, width, name="tgt_embed")
        forward = keras.layers.GRU(width // 2, return_sequences=True)
        self.encoder = keras.layers.Bidirectional(forward, name="encoder")
        self.decoder = keras.layers.GRU(width, return_sequences=True, name="decoder")
        self.attend = Attention("learned", width, 1, name="attention")
        self.readout = keras.layers.Dense(n_tgt, use_bias=False, name="readout")

    @classmethod
    def from_settings(cls, arch, n_src, n_tgt, src_len, tgt_len, model_cfg):
        return cls(arch, n_src, n_tgt, model_cfg["units"], src_len=src_len, tgt_len=tgt_len, name=arch)

    def internals(self, src, dec_in) -> dict:
        src_mask = ops.not_equal(src, PAD)  # (batch, S)
        enc_states = self.encoder(self.src_embed(src), mask=src_mask)  # (batch, S, n)
        dec_states = self.decoder(self.tgt_embed(dec_in))  # (batch, T, n)
        context, attention = self.attend(dec_states, enc_states, src_mask)  # (batch, T, n), (batch, T, S)
        logits = self.readout(ops.concatenate([dec_states, context], axis=-1))  # (batch, T, n_tgt)
        return {"enc_states": enc_states, "dec_states": dec_states, "attention": attention, "logits": logits}

    def matrices(self) -> dict[str, np.ndarray]:
        readout = ops.convert_to_numpy(self.readout.kernel)  # (2n, n_tgt): [h^D_t ; c_t] -> logits
        return {**self.attend.matrices(), "attention_kind": np.array("learned"), "W_c": readout[self.width :]}


MODEL = BidirectionalEncoderDecoder
