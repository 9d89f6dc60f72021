"""Figure 13 (docs/science.md §4.9). What it shows is declared in ``FIGURE`` below, from which
the report's caption and docs/science.md §5 are made. The code draws every seed's
``gold_alignment`` table of each translation model with attention (the models
``attend.gold_alignment.applies`` names) and the first seed's drawn gold sentence, from the
``analysis.npz`` beside that seed's table (``analysis/{task}/{arch}/seed{seed}/gold/``).
The panels are functions of a table and an array dict, so that ``attend analyse`` draws the
same for one probe (``attend.plotting.one_model``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from .. import gold_alignment
from ..analysis.alignment import CONVENTIONS, POSSIBLE, SURE, WHOLE_MODEL
from ..artifacts import load_npz
from . import Figure, inputs, panels, style
from .style import plt

FIGURE = Figure(
    models=lambda task, arch: gold_alignment.applies(task.name, arch.name),
    seed_tables=("gold_alignment",),
    title="attention against human word alignments",
    findings=("F6",),
    caption="translation models with attention on the human-aligned Hansards pairs: each unit's AER against its μ·μ "
    "share, beside the diagonal and the whole model; one gold sentence's links over the attention, the temporal-only "
    "attention and the attention without μ·μ",
    description="Each translation model with attention probed on the 447 Hansards sentence pairs with human word "
    "alignments (docs/science.md §4.9), one row per architecture. Left: every (layer, head) unit of every seed's model "
    "as a point, its alignment error rate (AER, Och and Ney 2003, target word j read at the decoder step that "
    "predicts it, all pairs) against its μ·μ share at the attended position on the same pairs (§4.2); a model of one "
    "head is its one unit. Stars mark each seed's model as a whole (its units' mean weights; F6 reads these), the "
    "dashed line the AER of the length-scaled diagonal (attending by position alone; no model). Right, one gold "
    "sentence of the first seed's model (the pair inside the trained length with the most sure links), decoder step "
    "down and source word across: the model's attention, its temporal-only attention (softmax of the μ·μ term "
    "alone) and its attention without the μ·μ term, each row read at the step that predicts its target word; the "
    "human links drawn over them (filled squares sure, open circles possible). Models the config does not train "
    "are drawn as labelled empty panels.",
)
TABLE = "gold_alignment"
CONVENTION, LENGTH_BIN = "predicts", "all"  # what the figure reads, as F6 does
SENTENCE_READINGS = {  # reading -> panel title
    "attention": "attention",
    "temporal_only": "temporal-only (μ·μ alone)",
    "without_mu_mu": "without μ·μ",
}
COLUMNS = 1 + len(SENTENCE_READINGS)
LINK_COLOR = "#e41a1c"  # the human links, over the attention's colour map


def read_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The rows the figure reads of a gold_alignment table: convention 'predicts', all pairs."""
    if table.empty:
        return table
    return table[(table["convention"] == CONVENTION) & (table["length_bin"] == LENGTH_BIN)]


def unit_points(table: pd.DataFrame) -> pd.DataFrame:
    """Each unit's (mu_mu_share, aer) of the attention reading, one row per unit of each seed's
    model (with a seed column: every seed's): its (layer, head) rows, or the model's own row
    where the model is one unit."""
    rows = read_rows(table)
    rows = rows[rows["reading"] == "attention"]
    keys = [c for c in ("seed",) if c in rows.columns]
    parts = []
    for _, model in rows.groupby(keys, sort=True) if keys else [((), rows)]:
        units = model[(model["layer"] >= 0) & (model["head"] >= 0)]
        parts.append(units if len(units) else model[model["layer"] == WHOLE_MODEL])
    return pd.concat(parts) if parts else rows


def whole_models(table: pd.DataFrame, reading: str = "attention") -> pd.DataFrame:
    """The rows of each seed's model as a whole of one reading."""
    rows = read_rows(table)
    return rows[(rows["reading"] == reading) & (rows["layer"] == WHOLE_MODEL) & (rows["head"] == WHOLE_MODEL)]


def units_panel(ax, table: pd.DataFrame, colour: str, title: str) -> None:
    """Every unit's AER against its μ·μ share, each seed's whole model (stars) and the
    diagonal's AER (a dashed line)."""
    points, whole, diagonal = unit_points(table), whole_models(table), whole_models(table, "diagonal")
    ax.scatter(points["mu_mu_share"], points["aer"], s=14, color=colour, alpha=0.75, lw=0, label="unit")
    ax.scatter(
        whole["mu_mu_share"], whole["aer"], s=90, marker="*", color=colour, edgecolor="k", lw=0.6, label="whole model"
    )
    if len(diagonal):
        ax.axhline(float(diagonal["aer"].mean()), color="0.3", ls="--", lw=1, label="diagonal")
    ax.set_xlim(-0.02, 1.02)  # shares and rates of 0 and 1 stay inside
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("μ·μ share at the attended position")
    ax.set_ylabel("AER (lower: closer to the human links)")
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=6, loc="lower left")


def gold_marks(ax, links: np.ndarray) -> None:
    """The human links of a sentence over a panel: filled squares sure, open circles possible."""
    for value, marker, face in ((SURE, "s", LINK_COLOR), (POSSIBLE, "o", "none")):
        t, s = np.nonzero(links == value)
        ax.scatter(s, t, marker=marker, s=16, facecolors=face, edgecolors=LINK_COLOR, linewidths=0.9)


def sentence_panel(ax, arrays: dict, reading: str, title: str) -> None:
    """One reading's weights on the drawn gold sentence (the 'predicts' step of each target
    word), with its human links."""
    weights = arrays[f"gold_sentence_{reading}"][list(CONVENTIONS).index(CONVENTION)]
    src = [str(arrays["src_vocab"][i]) for i in arrays["gold_sentence_enc_tokens"]]
    tgt = [str(arrays["tgt_vocab"][i]) for i in arrays["gold_sentence_target_words"]]
    panels.attention_matrix(ax, weights, title, src=src, tgt=tgt)
    gold_marks(ax, arrays["gold_sentence_links"])
    ax.set_xlabel("source word")
    ax.set_ylabel("target word (its predicting step)")


def load_sentence(path: str | Path) -> dict:
    """The drawn sentence's arrays of one gold probe's analysis."""
    return load_npz(path, {"gold_sentence_links": 2, "gold_sentence_attention": 3}, "gold analysis")


def _row(axes, task: str, arch: str, table: pd.DataFrame, arrays: dict | None, seed) -> None:
    label = style.pair_label(task, arch)
    if arrays is None:
        for ax in axes:
            style.placeholder(ax, f"{style.pair_label(task, arch, ' / ')} not in this config")
        return
    seeds = int(table["seed"].nunique()) if "seed" in table.columns else 1
    units_panel(axes[0], table, style.arch_color(arch), f"{label}: units ({seeds} seed{'s' if seeds != 1 else ''})")
    for ax, (reading, name) in zip(axes[1:], SENTENCE_READINGS.items()):
        sentence_panel(ax, arrays, reading, f"{name} (seed {seed}, pair {int(arrays['gold_sentence'])})")


def render(analysis: dict[str, str], tables: dict[str, str], pdf: str, png: str, settings: dict) -> None:
    pairs = FIGURE.pairs()
    per_seed = tables.get(TABLE) or {}
    fig = plt.figure(figsize=(4.2 * COLUMNS, 3.9 * max(len(pairs), 1)))
    grid = fig.add_gridspec(max(len(pairs), 1), COLUMNS, wspace=0.45, hspace=0.55)
    for i, (task, arch) in enumerate(pairs):
        runs = {run: path for run, path in per_seed.items() if run.rsplit("/", 1)[0] == inputs.key(task, arch)}
        table = inputs.table_or_empty(runs)
        first = next(iter(runs), None)
        arrays = load_sentence(Path(runs[first]).with_name("analysis.npz")) if first else None
        seed = first.rsplit("/", 1)[1] if first else None
        _row([fig.add_subplot(grid[i, j]) for j in range(COLUMNS)], task, arch, table, arrays, seed)
    if not pairs:
        style.placeholder(fig.add_subplot(grid[0, 0]), "no translation model with attention is registered")
    fig.legend(
        handles=[
            Line2D([], [], marker="s", ls="", color=LINK_COLOR, label="sure link (human)"),
            Line2D(
                [], [], marker="o", ls="", markerfacecolor="none", markeredgecolor=LINK_COLOR, label="possible link"
            ),
        ],
        loc="upper right",
        frameon=False,
        fontsize=7,
    )
    fig.suptitle(
        "Figure 13 — attention against human word alignments (the Hansards pairs of WPT-2003): left, each unit's AER "
        "against its μ·μ share (stars: the whole model; dashed: the length-scaled diagonal);\nright, one gold "
        "sentence's links over the attention, the temporal-only attention and the attention without μ·μ",
        fontsize=9,
        y=0.995,
    )
    fig.subplots_adjust(left=0.06, right=0.98, top=0.9, bottom=0.08)
    style.save(fig, pdf, png)
