"""The models of the architectures declared in ``attend.architectures``, in Keras 3
(backend-neutral ``keras.ops``, so they run on TensorFlow and JAX).

* ``layers``: the Keras layers they are made of (one-hot, rotated sinusoidal positions,
  attention, the Transformer's blocks);
* ``base``: :class:`~attend.models.base.EncoderDecoder`, what every model is to training,
  the probe and saved files;
* one module per model class, named by the declarations' ``model``: ``seq2seq`` (VED, AED
  and AO, docs/science.md §3) and ``transformer`` (docs/transformer.md). Each module's
  ``MODEL`` is its class.

Every model module is imported here, so that Keras finds its class when it loads a saved
model and so that the workflow's code version of training and the probe covers it
(``attend.provenance`` follows imports).
"""

from __future__ import annotations

from importlib import import_module

from ..architectures import ARCHITECTURES
from . import seq2seq, transformer  # noqa: F401  every module an architecture's declaration names
from .base import EncoderDecoder


def model_class(arch: str) -> type[EncoderDecoder]:
    """The model class of ``arch``: ``MODEL`` of the module its declaration names."""
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; choose one of {list(ARCHITECTURES)}")
    return import_module(f"{__name__}.{ARCHITECTURES[arch].model}").MODEL


def build_model(arch: str, n_src: int, n_tgt: int, src_len: int, tgt_len: int, model_cfg: dict) -> EncoderDecoder:
    """The model of one architecture for a dataset of these vocabulary sizes and padded
    lengths, with the config's ``model`` settings (each model class reads its own)."""
    return model_class(arch).from_settings(arch, n_src, n_tgt, src_len, tgt_len, model_cfg)
