"""The models of the architectures declared in ``attend.architectures``, in Keras 3
(backend-neutral ``keras.ops``, so they run on TensorFlow and JAX).

* ``layers``: the Keras layers they are made of (one-hot, rotated sinusoidal positions,
  attention, the Transformer's blocks);
* ``base``: :class:`~attend.models.base.EncoderDecoder`, what every model is to training,
  the probe and saved files;
* one module per model class, named by the declarations' ``model``: ``seq2seq`` (VED, AED
  and AO, docs/science.md §3) and ``transformer`` (docs/transformer.md). Each module's
  ``MODEL`` is its class.

A model module is imported by name, from its architecture's declaration, when a model of
that architecture is built (:func:`build_model`) or loaded (``attend.model_files``, before
Keras reads the file, so that Keras finds the class); the workflow's code version of a
job counts its architecture's module (``Architecture.model_module``). So a fifth
architecture is one module here and one declaration (docs/extending.md): nothing else
lists it.
"""

from __future__ import annotations

from importlib import import_module

from ..architectures import ARCHITECTURES
from .base import EncoderDecoder


def model_class(arch: str) -> type[EncoderDecoder]:
    """The model class of ``arch``: ``MODEL`` of the module its declaration names."""
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; choose one of {list(ARCHITECTURES)}")
    return import_module(ARCHITECTURES[arch].model_module).MODEL


def build_model(arch: str, n_src: int, n_tgt: int, src_len: int, tgt_len: int, model_cfg: dict) -> EncoderDecoder:
    """The model of one architecture for a dataset of these vocabulary sizes and padded
    lengths, with the config's ``model`` settings (each model class reads its own)."""
    return model_class(arch).from_settings(arch, n_src, n_tgt, src_len, tgt_len, model_cfg)
