"""Figure 6. What it shows is declared in ``FIGURE`` below, from which the report's caption
and docs/science.md §5 are made. Its points are :func:`attend.claims.f4_points`, the very
points claim F4 is checked on, and ρ is :func:`attend.claims.spearman`."""

from __future__ import annotations

import pandas as pd
from matplotlib.lines import Line2D

from ..claims import f4_points, spearman
from . import Figure, inputs, style
from .style import plt

FIGURE = Figure(
    tables=("approximation", "term_shares"),
    title="summary across tasks",
    paper="Fig. 6",
    findings=("F4",),
    caption="the μ·μ share against how well the mean attention Ā stands in for single examples, every seed's model "
    "and each task × architecture's seed mean ± sd",
    description="Across tasks, the better the mean attention matrix Ā stands in for a single example's attention, "
    "the larger the share of the temporal term μ·μ in the attention scores at the attended position (F4). Left, "
    "against the argmax agreement of each example's attention with Ā (F4 expects ρ > 0); right, against their mean "
    "total-variation distance (F4 expects ρ < 0). A faint point per task × architecture (AED, AO) × seed, the "
    "points claim F4 is checked on, and each task × architecture's seed mean with error bars of one standard "
    "deviation; ρ is Spearman's over every seed's model.",
)
X_METRICS = {
    "argmax_agreement": (
        "argmax agreement of each example's attention with Ā\n(fraction of decoder steps)",
        "temporal share vs argmax agreement with Ā",
        "F4 expects ρ > 0",
    ),
    "tv_distance": (
        "mean total-variation distance, example attention vs Ā\n(0 = Ā is exact)",
        "temporal share vs distance to Ā",
        "F4 expects ρ < 0",
    ),
}


def _panel(ax, points: pd.DataFrame, metric: str) -> None:
    xlabel, title, expect = X_METRICS[metric]
    if points.empty:
        style.placeholder(ax, "no AED/AO models with attention measurements")
        ax.set_title(title)
        return
    for (task, arch), g in points.groupby(["task", "arch"], sort=False):
        # Every seed's model, faint; the seed mean with error bars of one sd (where > 1 seed).
        ax.scatter(
            g["value"],
            g["share"],
            marker=style.task_marker(task),
            s=18,
            color=style.arch_color(arch),
            edgecolors="none",
            alpha=0.45,
            zorder=2,
        )
        sd = (g["value"].std(), g["share"].std()) if len(g) > 1 else (None, None)
        ax.errorbar(
            g["value"].mean(),
            g["share"].mean(),
            xerr=sd[0],
            yerr=sd[1],
            fmt=style.task_marker(task),
            ms=7,
            color=style.arch_color(arch),
            mec="k",
            mew=0.5,
            ecolor="0.3",
            elinewidth=0.8,
            capsize=2,
            zorder=3,
        )
        ax.annotate(
            style.task_label(task),
            (g["value"].mean(), g["share"].mean()),
            fontsize=6,
            xytext=(5, 4),
            textcoords="offset points",
            color="0.25",
        )
    rho = spearman(points["value"], points["share"])
    n_tasks = points["task"].nunique()
    n_seeds = points["seed"].nunique()
    ax.set_title(
        f"{title}\nSpearman ρ = {rho:.2f}  ({expect}; n = {len(points)} models, {n_tasks} tasks, "
        f"{n_seeds} seed{'s' if n_seeds > 1 else ''})"
    )
    ax.set_xlabel(xlabel)
    ax.set_ylabel("μ·μ share of |score| at the attended position")
    ax.set_ylim(0, 1.02)
    ax.set_xlim(0, 1.02) if metric == "argmax_agreement" else ax.set_xlim(left=0)
    ax.grid(alpha=0.25, lw=0.5)


def _legend(ax, points: pd.DataFrame) -> None:
    tasks = style.ordered(points["task"], style.task_names())
    archs = style.ordered(points["arch"], style.arch_names())
    handles = [
        Line2D(
            [],
            [],
            ls="",
            marker=style.task_marker(t),
            color="0.5",
            markeredgecolor="k",
            ms=6,
            label=style.task_label(t),
        )
        for t in tasks
    ]
    handles += [
        Line2D(
            [], [], ls="", marker="o", color=style.arch_color(a), markeredgecolor="k", ms=6, label=style.arch_label(a)
        )
        for a in archs
    ]
    if handles:
        ax.legend(
            handles=handles,
            frameon=False,
            fontsize=7,
            loc="upper left",
            bbox_to_anchor=(1.0, 1.0),
            title="task (marker) / arch (colour)",
            title_fontsize=7,
        )


def render(analysis: dict[str, str], tables: dict[str, str], pdf: str, png: str, settings: dict) -> None:
    approx, shares = (
        inputs.table_or_empty(tables.get("approximation")),
        inputs.table_or_empty(tables.get("term_shares")),
    )
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 4.4))
    points = {}
    for ax, metric in zip(axes, X_METRICS):
        points[metric] = f4_points(approx, shares, metric)  # the points claim F4 is checked on
        _panel(ax, points[metric], metric)
    _legend(axes[1], points["argmax_agreement"] if len(points["argmax_agreement"]) else points["tv_distance"])
    fig.suptitle(
        "Figure 6 — summary (F4): the better the mean attention Ā approximates single examples, "
        "the larger the temporal (μ·μ) share\n(faint: each seed; large: seed mean ± 1 sd; ρ over every "
        "seed's model)",
        fontsize=10,
    )
    fig.tight_layout()
    style.save(fig, pdf, png)
