"""The gold probe of a model of this project (docs/science.md §4.9): the model teacher-forced
on the human-aligned gold pairs, encoded through its own vocabulary
(:func:`attend.gold_alignment.encode_gold`), probed as on its test set
(:func:`attend.probe.record`), with the gold links (probe format 2). The workflow's rule
``gold_probe`` writes it for every model :func:`attend.gold_alignment.applies` names. Apart
from the data module so that what reads the gold data (the figures, the claims) does not
follow the probe's recorder."""

from __future__ import annotations

import numpy as np

from . import probe
from .gold_alignment import Gold, encode_gold


def record(model, gold: Gold, vocab: dict) -> tuple[dict[str, np.ndarray], dict]:
    """The gold probe of ``model`` (``attend.models``) on ``gold`` through its dataset's
    ``vocab``, and the out-of-vocabulary rates :func:`attend.gold_alignment.encode_gold`
    reports."""
    arrays, oov = encode_gold(gold, vocab["src_vocab"], vocab["tgt_vocab"])
    recorded = probe.record(model, arrays["enc_tokens"], arrays["targets"], vocab)
    links = {"gold_links": arrays["gold_links"], "gold_sure": arrays["gold_sure"]}
    which = "/".join(str(model.identity[k]) for k in ("task", "arch", "seed") if k in model.identity)
    return probe.assemble({**recorded, **links}, f"the gold probe of model {which or model.arch}"), oov
