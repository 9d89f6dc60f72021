"""Figure 12 (docs/transformer.md). What it shows is declared in ``FIGURE`` below, from
which the report's caption and docs/science.md §5 are made. The code draws every seed's
``term_shares`` of the Transformer (``ARCH``) per task, ordered by :func:`unit_rows`, and
the attention arrays of ``SAMPLE_TASKS``; labelled empty panels for tasks or layers the
config does not have."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import Figure, inputs, models_named, panels, style
from .style import TERM_COLORS, TERM_LABELS, plt

ARCH = "tfm"
FIGURE = Figure(
    models=models_named((None, ARCH)),
    seed_tables=("term_shares",),
    title="the Transformer",
    caption="the Transformer: nine-term shares by layer and head beside the whole model; sample attention beside Ā",
    description="The paper's nine-term breakdown applied to every cross-attention head of every decoder layer of an "
    "encoder-decoder Transformer (architecture ``tfm``; docs/transformer.md). Top row, one panel per task: the "
    "overall share of each score term (``|term| / Σ|terms|`` at the unit's own attended position, all test steps, "
    "mean over seeds) for every (layer, head) unit, each layer's mean over its heads, and the model as a whole (the "
    "uniform mean over its units, which the claims' Transformer rows read). Below, for one_to_one, sort and "
    "translation: a representative test example's attention beside the mean attention Ā (one seed's model), for "
    "the whole model (its units' mean weights) and for each decoder layer (the mean over its heads). Tasks or "
    "layers the config does not have are drawn as labelled empty panels.",
)
SAMPLE_TASKS = ("one_to_one", "sort", "translation")  # the tasks whose attention is drawn
WHOLE = -1


def unit_rows(table: pd.DataFrame) -> list[tuple[int, int]]:
    """The (layer, head) rows of one model's term_shares to draw, in order: its units, then
    each layer's mean over its heads (several layers), then the model as a whole (-1, -1)."""
    if table.empty:
        return []
    pairs = set(map(tuple, table[["layer", "head"]].drop_duplicates().astype(int).to_numpy()))
    units = sorted(p for p in pairs if p[0] >= 0 and p[1] >= 0)
    layers = sorted(p for p in pairs if p[0] >= 0 and p[1] == WHOLE)
    return units + layers + ([(WHOLE, WHOLE)] if (WHOLE, WHOLE) in pairs else [])


def row_label(layer: int, head: int) -> str:
    if layer == WHOLE:
        return "whole model"
    return f"layer {layer} (mean)" if head == WHOLE else f"L{layer} H{head}"


def share_matrix(table: pd.DataFrame, task: str) -> tuple[np.ndarray, list[tuple[int, int]], int]:
    """(rows × 9 seed-mean overall shares, the rows' (layer, head), seeds) of ``task``'s
    Transformer in a stacked term_shares table with layer and head columns."""
    if table.empty or "layer" not in table.columns:
        return np.zeros((0, len(TERM_COLORS))), [], 0
    rows = table[(table["task"] == task) & (table["arch"] == ARCH) & (table["step"] == -1)]
    order = unit_rows(rows)
    if not order:
        return np.zeros((0, len(TERM_COLORS))), [], 0
    means = rows.groupby(["layer", "head", "term"])["share"].mean()
    matrix = np.array([[means.get((layer, head, term), np.nan) for term in TERM_COLORS] for layer, head in order])
    return matrix, order, int(rows["seed"].nunique())


def _shares_panel(ax, table: pd.DataFrame, task: str) -> None:
    matrix, order, seeds = share_matrix(table, task)
    ax.set_title(style.task_label(task), color=style.task_color(task), fontweight="bold")
    if not order:
        style.placeholder(ax, "not in this config")
        return
    ax.imshow(matrix, cmap="Blues", vmin=0, vmax=1, aspect="auto", interpolation="nearest")
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            if np.isfinite(matrix[i, j]):
                ax.text(
                    j,
                    i,
                    f"{matrix[i, j]:.2f}"[1:] if matrix[i, j] < 1 else "1",
                    ha="center",
                    va="center",
                    fontsize=5,
                    color="white" if matrix[i, j] > 0.55 else "0.15",
                )
    if len(order) > 1:  # set the model as a whole apart
        ax.axhline(len(order) - 1.5, color="k", lw=1.2)
    ax.set_xticks(range(len(TERM_COLORS)), [TERM_LABELS[t] for t in TERM_COLORS], rotation=90, fontsize=6)
    ax.set_yticks(range(len(order)), [row_label(*p) for p in order], fontsize=6)
    ax.tick_params(length=0)
    ax.set_xlabel(f"decoder·encoder term ({seeds} seed{'s' if seeds != 1 else ''})", fontsize=6)


def layer_views(arrays: dict) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{"whole model" or "layer l": (sample attention (T, S), Ā (T, S))}: the model's own,
    then each layer's mean over its heads (a model of several units)."""
    views = {"whole model": (arrays["sample_attention"][0], arrays["mean_attention"])}
    if "unit_layer" in arrays:
        layer_of = np.asarray(arrays["unit_layer"])
        for layer in sorted(set(layer_of.tolist())):
            units = layer_of == layer
            views[f"layer {layer}"] = (
                arrays["unit_sample_attention"][0][units].mean(0),
                arrays["unit_mean_attention"][units].mean(0),
            )
    return views


def _attention_row(axes, model: inputs.Model | None, task: str) -> None:
    label = style.task_label(task)
    arrays = model.arrays if model is not None else {}
    if model is None or "mean_attention" not in arrays or not len(arrays.get("sample_attention", [])):
        for ax in axes:
            style.placeholder(ax, f"{label}: not in this config" if model is None else f"{label}: no attention arrays")
        return
    dl, el = int(arrays["sample_dec_len"][0]), int(arrays["sample_enc_len"][0])
    t_max, s_max = int((arrays["dec_step_count"] > 0).sum()), int((arrays["enc_step_count"] > 0).sum())
    src = [str(arrays["src_vocab"][i]) for i in arrays["sample_enc_tokens"][0][:el]]
    tgt = [str(arrays["tgt_vocab"][i]) for i in arrays["sample_targets"][0][:dl]]
    views = list(layer_views(arrays).items())
    for i, ax in enumerate(axes):
        if i // 2 >= len(views):
            style.placeholder(ax, "no such layer")
            continue
        name, (sample, mean) = views[i // 2]
        if i % 2 == 0:
            panels.attention_matrix(ax, sample, f"{name}: example", dec_len=dl, enc_len=el, src=src, tgt=tgt)
        else:
            panels.attention_matrix(ax, mean, f"{name}: Ā", dec_len=t_max, enc_len=s_max)
        if i:
            ax.set_ylabel("")
    axes[0].annotate(
        label,
        (-0.62, 0.5),
        xycoords="axes fraction",
        rotation=90,
        ha="center",
        va="center",
        fontsize=9,
        fontweight="bold",
        color=style.task_color(task),
    )


def render(analysis: dict[str, str], tables: dict[str, str], pdf: str, png: str, settings: dict) -> None:
    pairs = FIGURE.pairs()
    models = inputs.load_models(analysis, pairs)
    shares = inputs.table_or_empty(tables.get("term_shares"))
    share_tasks = [task for task, _ in pairs]
    sample_tasks = [t for t in SAMPLE_TASKS if t in style.task_names()]
    n_views = 1 + max(
        [len(set(np.asarray(m.arrays["unit_layer"]).tolist())) for m in models.values() if "unit_layer" in m.arrays]
        or [0]
    )
    columns = 2 * n_views
    fig = plt.figure(figsize=(max(2.3 * len(share_tasks), 2.1 * columns), 3.4 + 2.6 * len(sample_tasks)))
    grid = fig.add_gridspec(2, 1, height_ratios=[3.4, 2.6 * max(len(sample_tasks), 1)], hspace=0.35)
    top = grid[0].subgridspec(1, max(len(share_tasks), 1), wspace=0.45)
    for j, task in enumerate(share_tasks):
        _shares_panel(fig.add_subplot(top[0, j]), shares, task)
    if not share_tasks:
        style.placeholder(fig.add_subplot(top[0, 0]), "no task registered")
    bottom = grid[1].subgridspec(max(len(sample_tasks), 1), columns, wspace=0.45, hspace=0.7)
    for i, task in enumerate(sample_tasks):
        _attention_row(
            [fig.add_subplot(bottom[i, j]) for j in range(columns)], models.get(inputs.key(task, ARCH)), task
        )
    fig.suptitle(
        "Figure 12 — the Transformer's cross-attention: top, the share of each score term "
        "(|term| / Σ|terms| at the attended position, all test steps, mean over seeds) per layer and head,\n"
        "each layer's mean and the whole model (the uniform mean over units, which the claims read); below, "
        "a representative test example's attention beside Ā (one seed's model), whole model and per layer "
        "(mean over heads)",
        fontsize=9,
        y=0.995,
    )
    fig.subplots_adjust(left=0.08, right=0.99, top=0.93, bottom=0.04)
    style.save(fig, pdf, png)
