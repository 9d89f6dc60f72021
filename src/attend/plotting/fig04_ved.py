"""Figure 4. What it shows is declared in ``FIGURE`` below, from which the report's caption
and docs/science.md §5 are made. The code draws every task's VED model: its ``variance`` and
``accuracy_by_length`` tables, and the states of ``PCA_TASK``'s model with
:func:`panels.pca_trajectories`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..analysis.decompose import COMPONENTS
from . import Figure, inputs, models_named, panels, style
from .style import plt

FIGURE = Figure(
    models=models_named((None, "ved")),
    title="VED",
    paper="Fig. 4",
    findings=("F5",),
    caption="VED: the variance carried by μ, χ and Δ per task without attention, the states in PCA space, accuracy "
    "against input length",
    description="The vanilla encoder-decoder (VED), the baseline without attention, whose single final state must "
    "carry the whole input (F5's baseline). (a, b) The fraction of the encoder's and the decoder's state variance "
    "carried by μ, χ and Δ, per task. (c, f) one_to_one's encoder and decoder states in PCA space: the temporal "
    "trajectory μ_t (line) and μ̄ + χ(w) of frequent words (crosses). (d, e) Test sequence and token accuracy "
    "(teacher-forced) against input length, per task.",
)
PCA_TASK = "one_to_one"  # the task whose VED states panels (c) and (f) draw
COMPONENT_LABELS = {"mu": "μ (temporal)", "chi": "χ (input)", "delta": "Δ (residual)"}
COMPONENT_COLORS = {
    "mu": style.TERM_COLORS["mu·mu"],
    "chi": style.TERM_COLORS["chi·chi"],
    "delta": style.TERM_COLORS["delta·delta"],
}


def _variance(models: dict[str, inputs.Model]) -> pd.DataFrame:
    frames = []
    for m in models.values():
        df = m.table("variance")
        if len(df):
            frames.append(df.assign(task=m.task))
    if not frames:
        return pd.DataFrame(columns=["task", "side", "component", "fraction"])
    return pd.concat(frames, ignore_index=True)


def _variance_panel(ax, var: pd.DataFrame, side: str) -> None:
    tasks = list(dict.fromkeys(var["task"]))  # the models' order, which is the registry's
    if not tasks:
        style.placeholder(ax, "no VED model in this config")
        ax.set_title(f"VED {side}: variance carried by μ, χ, Δ")
        return
    width = 0.26
    x = np.arange(len(tasks))
    for i, comp in enumerate(COMPONENTS):
        values = []
        for task in tasks:
            row = var[(var["task"] == task) & (var["side"] == side) & (var["component"] == comp)]
            values.append(float(row["fraction"].iloc[0]) if len(row) else np.nan)
        bars = ax.bar(x + (i - 1) * width, values, width, color=COMPONENT_COLORS[comp], label=COMPONENT_LABELS[comp])
        for b, v in zip(bars, values):
            if np.isfinite(v):
                ax.text(b.get_x() + b.get_width() / 2, v + 0.01, f"{v:.2f}", ha="center", va="bottom", fontsize=5)
    ax.set_xticks(
        x,
        [style.task_label(t) for t in tasks],
        rotation=20 if len(tasks) > 5 else 0,
        ha="right" if len(tasks) > 5 else "center",
    )
    ax.set_ylim(0, 1.08)
    ax.set_ylabel("fraction of state variance")
    ax.set_title(f"VED {side}: variance carried by μ, χ, Δ")
    ax.legend(frameon=False, loc="upper right", ncols=3, fontsize=6)


def _pca_panel(ax, model: inputs.Model | None, side: str) -> None:
    name = "encoder" if side == "enc" else "decoder"
    title = f"{style.task_label(PCA_TASK)} VED {name} states (PCA)"
    if model is None:
        style.placeholder(ax, f"{style.pair_label(PCA_TASK, 'ved', ' / ')} not in this config")
        ax.set_title(title)
        return
    panels.pca_trajectories(ax, model, side)
    ax.set_title(f"{title}\nline = μ_t; × = μ̄ + χ(w) of frequent words")
    ax.legend(frameon=False, loc="best", fontsize=6)
    if ax.collections:
        cbar = ax.figure.colorbar(ax.collections[0], ax=ax, fraction=0.05, pad=0.02)
        cbar.set_label(f"{name} position")
        cbar.solids.set_alpha(1)


def _length_panel(ax, models: dict[str, inputs.Model], column: str, label: str) -> None:
    drawn = False
    for m in models.values():
        df = m.table("accuracy_by_length")
        if not len(df):
            continue
        df = df.sort_values("length")
        ax.plot(
            df["length"],
            df[column],
            "-",
            marker=style.task_marker(m.task),
            ms=3,
            lw=1,
            color=style.task_color(m.task),
            label=style.task_label(m.task),
        )
        drawn = True
    if not drawn:
        style.placeholder(ax, "no VED model in this config")
        ax.set_title(f"VED {label} vs input length")
        return
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("input length (tokens, incl. </s>)")
    ax.set_ylabel(f"{label} (teacher-forced)")
    ax.set_title(f"VED {label} vs input length\n(test set, teacher-forced decoding)")
    ax.legend(frameon=False, fontsize=6)


def render(analysis: dict[str, str], tables: dict[str, str], pdf: str, png: str, settings: dict) -> None:
    models = inputs.load_models(analysis, FIGURE.pairs())  # every task's VED, in registry order
    var = _variance(models)
    fig, axes = plt.subplots(2, 3, figsize=(12, 7), gridspec_kw={"width_ratios": [1.25, 1.25, 1]})
    _variance_panel(axes[0, 0], var, "encoder")
    _variance_panel(axes[0, 1], var, "decoder")
    o2o = models.get(inputs.key(PCA_TASK, "ved"))
    _pca_panel(axes[0, 2], o2o, "enc")
    _length_panel(axes[1, 0], models, "seq_acc", "sequence accuracy")
    _length_panel(axes[1, 1], models, "token_acc", "token accuracy")
    _pca_panel(axes[1, 2], o2o, "dec")
    for ax, letter in zip(axes.flat, "abcdef"):
        ax.text(-0.12, 1.04, letter, transform=ax.transAxes, fontsize=10, fontweight="bold", va="bottom")
    fig.suptitle(
        "Figure 4 — vanilla encoder-decoder (VED, no attention): decomposition and accuracy vs length", fontsize=10
    )
    fig.tight_layout()
    style.save(fig, pdf, png)
