"""What every model of ``attend.models`` is to the rest of the project: training calls it,
the probe (``attend.probe.record``) reads its :meth:`~EncoderDecoder.internals`,
:meth:`~EncoderDecoder.matrices`, ``arch`` and ``identity``, and ``attend.model_files``
saves and loads it."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from ..architectures import ARCHITECTURES, Architecture


class EncoderDecoder(keras.Model):
    """One encoder-decoder of architecture ``arch`` (a name of
    ``attend.architectures.ARCHITECTURES``) over ``n_src`` source and ``n_tgt`` target token
    ids, of hidden width ``width`` (n), built for sources of ``src_len`` and targets of
    ``tgt_len`` positions (it runs on any length).

    Call it on ``(src (batch, S), dec_in (batch, T))`` to get the logits (batch, T, n_tgt).
    A model class (one module of ``attend.models`` per class, named by an architecture's
    declaration) defines :meth:`from_settings`, its layers in ``__init__``,
    :meth:`internals`, :meth:`matrices` and :meth:`get_config`."""

    def __init__(
        self,
        arch: str,
        n_src: int,
        n_tgt: int,
        width: int,
        *,
        src_len: int,
        tgt_len: int,
        identity: dict | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        # What the model was trained as and from (task, arch, seed, dataset checksum...),
        # saved with it so that whoever loads it can check it is the model they expect.
        self.identity = dict(identity or {})
        if arch not in ARCHITECTURES:
            raise ValueError(f"unknown architecture {arch!r}; choose one of {list(ARCHITECTURES)}")
        declared = f"{__package__}.{ARCHITECTURES[arch].model}"
        if type(self).__module__ != declared:
            raise ValueError(f"architecture {arch!r} is built by {declared}, not by {type(self).__name__}")
        self.arch, self.n_src, self.n_tgt, self.width = arch, n_src, n_tgt, width
        self.src_len, self.tgt_len = src_len, tgt_len

    @property
    def architecture(self) -> Architecture:
        return ARCHITECTURES[self.arch]

    @classmethod
    def from_settings(cls, arch: str, n_src: int, n_tgt: int, src_len: int, tgt_len: int, model_cfg: dict):
        """The model of ``arch`` for a dataset of these vocabulary sizes and padded lengths,
        from the config's ``model`` settings (the ones it reads)."""
        raise NotImplementedError

    def build(self, input_shape=None):
        self.internals(ops.zeros((1, self.src_len), "int32"), ops.zeros((1, self.tgt_len), "int32"))
        self.built = True

    def internals(self, src, dec_in) -> dict:
        """Every quantity the analysis needs for a batch of (source (batch, S), decoder input
        (batch, T)) ids, named as the probe format names them: at least ``logits``
        (batch, T, n_tgt), ``enc_states`` (batch, S, n) and ``dec_states`` (batch, T, n)."""
        raise NotImplementedError

    def matrices(self) -> dict[str, np.ndarray]:
        """The weights the probe records, in its keys (kernel orientation, q = h @ W_q)."""
        raise NotImplementedError

    def call(self, inputs, training=False):
        src, dec_in = inputs
        return self.internals(src, dec_in)["logits"]

    def get_config(self):
        return {
            "arch": self.arch,
            "n_src": self.n_src,
            "n_tgt": self.n_tgt,
            "width": self.width,
            "src_len": self.src_len,
            "tgt_len": self.tgt_len,
            "identity": self.identity,
        }


def renamed_width(config: dict) -> dict:
    """A saved config with the hidden width under its current name: models saved before the
    rename called it ``units``."""
    if "units" not in config:
        return config
    return {("width" if k == "units" else k): v for k, v in config.items()}
