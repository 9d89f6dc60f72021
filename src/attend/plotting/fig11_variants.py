"""Figure 11. What it shows is declared in ``FIGURE`` below, from which the report's caption
and docs/science.md §5 are made. The code draws the ``variant_claims`` and
``variant_shares`` tables; the workflow plans it only when the config has a variant besides
base."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from . import Figure, inputs, style
from .style import plt

FIGURE = Figure(
    tables=("variant_claims", "variant_shares"),
    title="variants compared",
    findings=("F1", "F2", "F3", "F4", "F5"),
    caption="the variants compared: each claim's status per variant, and figure 6's points per variant (seed means)",
    description="Each variant of the config (``variants:``; docs/variants.md) is a branch of the workflow with its "
    "own models and claims; the workflow plans this figure only when the config has a variant besides base. Left, "
    "a claim × variant grid coloured by status (pass, fail, not checked), with each claim's pooled value and the "
    "seeds that pass (``results/tables/variant_claims.csv``). Right, figure 6 once per variant: each task × "
    "attention architecture's seed mean of the μ·μ share against the argmax agreement of single examples with the "
    "mean attention Ā, ± 1 sd over seeds (``results/tables/variant_shares.csv``). Multi-head models are read as a "
    "whole (their heads averaged uniformly).",
)
STATUS_COLORS = {"pass": "#a1d99b", "fail": "#fc9272", "not checked": "#d9d9d9"}


def _order(values) -> list[str]:
    """Names in the order they first appear (the tables keep the config's order, base first)."""
    return list(dict.fromkeys(values))


def _grid(ax, claims: pd.DataFrame) -> None:
    if claims.empty:
        style.placeholder(ax, "no variant claims")
        ax.set_title("claims per variant")
        return
    variants, names = _order(claims["variant"]), _order(claims["claim"])
    cells = claims.set_index(["claim", "variant"])
    for i, claim in enumerate(names):
        for j, variant in enumerate(variants):
            if (claim, variant) not in cells.index:
                continue
            row = cells.loc[(claim, variant)]
            ax.add_patch(
                plt.Rectangle(
                    (j - 0.5, i - 0.5),
                    1,
                    1,
                    facecolor=STATUS_COLORS.get(row["status"], "white"),
                    edgecolor="white",
                    lw=2,
                )
            )
            value = "n/a" if pd.isna(row["value"]) else f"{float(row['value']):.2f}"
            ax.text(
                j,
                i,
                f"{value}\n{row['seeds_passing'] if pd.notna(row['seeds_passing']) else ''}",
                ha="center",
                va="center",
                fontsize=6.5,
            )
    ax.set_xlim(-0.5, len(variants) - 0.5)
    ax.set_ylim(len(names) - 0.5, -0.5)
    ax.set_xticks(range(len(variants)), variants, rotation=30, ha="right")
    ax.set_yticks(range(len(names)), names)
    ax.tick_params(length=0)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_title("claims per variant: pooled value, seeds passing")
    ax.legend(
        handles=[Patch(facecolor=c, label=s) for s, c in STATUS_COLORS.items()],
        frameon=False,
        fontsize=6,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.12),
        ncol=3,
    )


def _summary(ax, rows: pd.DataFrame, variant: str) -> None:
    ax.set_title(variant)
    if rows.empty:
        style.placeholder(ax, "no AED/AO models with attention measurements")
        return
    for r in rows.itertuples():
        sd = lambda v: None if pd.isna(v) else v  # noqa: E731  one seed: no error bar
        ax.errorbar(
            r.argmax_agreement_mean,
            r.mu_mu_share_mean,
            xerr=sd(r.argmax_agreement_sd),
            yerr=sd(r.mu_mu_share_sd),
            fmt=style.task_marker(r.task),
            ms=6,
            color=style.arch_color(r.arch),
            mec="k",
            mew=0.5,
            ecolor="0.3",
            elinewidth=0.8,
            capsize=2,
        )
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.25, lw=0.5)


def _legend(fig, shares: pd.DataFrame) -> None:
    tasks = style.ordered(shares["task"], style.task_names()) if len(shares) else []
    archs = style.ordered(shares["arch"], style.arch_names()) if len(shares) else []
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
        fig.legend(
            handles=handles,
            frameon=False,
            fontsize=7,
            loc="center right",
            title="task (marker) / arch (colour)",
            title_fontsize=7,
        )


def render(analysis: dict[str, str], tables: dict[str, str], pdf: str, png: str, settings: dict) -> None:
    claims = inputs.table_or_empty(tables.get("variant_claims"))
    shares = inputs.table_or_empty(tables.get("variant_shares"))
    variants = _order([*claims.get("variant", []), *shares.get("variant", [])])
    cols = max(1, int(np.ceil(np.sqrt(len(variants)))))
    rows = max(1, int(np.ceil(len(variants) / cols)))
    fig = plt.figure(figsize=(4.0 + 2.6 * cols + 1.4, max(3.6, 2.5 * rows)))
    grid = fig.add_gridspec(
        rows, cols + 1, width_ratios=[1.5] + [1] * cols, left=0.06, right=0.86, wspace=0.35, hspace=0.55
    )
    _grid(fig.add_subplot(grid[:, 0]), claims)
    for k, variant in enumerate(variants):
        ax = fig.add_subplot(grid[k // cols, 1 + k % cols])
        _summary(ax, shares[shares["variant"] == variant] if len(shares) else shares, variant)
        if k // cols == rows - 1:
            ax.set_xlabel("argmax agreement with Ā", fontsize=7)
        if k % cols == 0:
            ax.set_ylabel("μ·μ share", fontsize=7)
    _legend(fig, shares)
    fig.suptitle(
        "Figure 11 — variants: claims F1–F5 per variant, and figure 6 per variant "
        "(seed mean ± 1 sd of each task × architecture)",
        fontsize=10,
    )
    style.save(fig, pdf, png)
