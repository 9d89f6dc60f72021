"""The layout of the per-model tables, declared once: each table's columns and the rows of a
model as a whole. The measurements fill them (:mod:`attend.analysis.measure`; of the gold
probe, :mod:`attend.analysis.alignment`); the tables, claims, figures, the results document
and ``attend analyse`` read them. pandas only.
"""

from __future__ import annotations

import pandas as pd

# Every per-model table, declared once: its columns. The workflow writes one CSV per
# table per model and stacks each across task × architecture × seed (attend.tables).
# ``layer``, ``head`` (term_shares, approximation): -1, -1 is the model as a whole, which
# every claim and figure of the paper reads: the uniform mean over its (layer, head) units
# of each unit's own value (attend.analysis.measure.unit_tables). A model of several units
# also has a row group per unit (layer l, head h; l is 0 for a model of one layer), and a
# model of several layers one per layer (l, -1: the mean over that layer's heads).
WHOLE_MODEL = -1
TABLE_COLUMNS = {
    "variance": ["side", "component", "fraction"],
    "term_shares": ["layer", "head", "step", "term", "share", "signed_mean", "n"],
    "approximation": ["layer", "head", "metric", "value"],
    "dictionary": ["word", "count", "translation", "predicted", "correct", "cosine"],
    "word_variance": ["side", "word", "count", "variance", "variance_without_mu"],
    "accuracy_by_length": ["length", "n", "token_acc", "seq_acc"],
    "alignment_offsets": ["step", "n", "data_offset", "attended_offset", "temporal_offset"],
    "word_attention": ["word", "offset", "attention", "n"],
}
# The tables of a model's gold probe (docs/science.md §4.9), declared once: its columns. The
# workflow probes every translation model with attention on the human-aligned gold pairs
# (attend.gold_alignment.applies), writes these beside that probe's analysis
# (analysis/{task}/{arch}/seed{seed}/gold/) and stacks each like the tables above.
# gold_alignment (attend.analysis.alignment): one row per (layer, head, convention,
# length_bin, reading); the scores and the counts behind them, the unit's μ·μ share on the
# gold probe (the same in every row of a unit) and the gold tokens' out-of-vocabulary rates
# (the same in every row of a model).
GOLD_TABLE_COLUMNS = {
    "gold_alignment": [
        "layer",
        "head",
        "convention",
        "length_bin",
        "reading",
        "aer",
        "precision",
        "recall",
        "sentences",
        "predicted",
        "sure",
        "possible",
        "predicted_sure",
        "predicted_possible",
        "mu_mu_share",
        "source_oov_rate",
        "target_oov_rate",
    ],
}


def whole_model(df: pd.DataFrame) -> pd.DataFrame:
    """The rows of each model as a whole (layer -1, head -1) of a table with those columns;
    other tables as they are."""
    for column in ("layer", "head"):
        if column in df.columns:
            df = df[df[column] == WHOLE_MODEL]
    return df
