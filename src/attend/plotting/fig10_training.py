"""Figure 10. What it shows is declared in ``FIGURE`` below, from which the report's caption
and docs/science.md §5 are made. The code draws the ``training_log`` and ``accuracy``
tables, one column of curves per task the tables hold."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from . import Figure, inputs, style
from .style import plt

FIGURE = Figure(
    tables=("training_log", "accuracy"),
    title="training",
    paper="appendix",
    caption="training: loss and validation curves of every seed, final accuracy, translation's BLEU and chrF",
    description="Training of every task × architecture. Top, one column per task with a line per architecture and "
    "seed: validation sequence accuracy (greedy exact match) and token accuracy (teacher-forced) against optimiser "
    "step, and below them the training and validation loss (masked cross-entropy; the plateau stop reads the "
    "validation loss). Bottom: the final greedy (free-running) test sequence and token accuracy, the seed mean "
    "with each seed a dot, and translation's test BLEU (on the project's tokens, and sacreBLEU's 13a on "
    "detokenised text) and chrF.",
)


def _curves(ax_acc, ax_loss, log: pd.DataFrame, task: str) -> None:
    df = log[log["task"] == task]
    name = style.task_label(task)
    if df.empty:
        style.placeholder(ax_acc, f"no training log for {name}")
        style.placeholder(ax_loss, "")
        ax_acc.set_title(name)
        return
    for arch in style.ordered(df["arch"], style.arch_names()):
        for _seed, g in df[df["arch"] == arch].groupby("seed"):
            g = g.sort_values("step")
            c = style.arch_color(arch)
            ax_acc.plot(g["step"], g["val_seq_acc"], "-", color=c, lw=1.2)
            if "val_token_acc" in g:
                ax_acc.plot(g["step"], g["val_token_acc"], "--", color=c, lw=0.8, alpha=0.7)
            ax_loss.plot(g["step"], g["loss"], "-", color=c, lw=1.2)
            if "val_loss" in g:  # the curve the plateau stop reads
                ax_loss.plot(g["step"], g["val_loss"], ":", color=c, lw=1.2)
    ax_acc.set_ylim(-0.02, 1.02)
    ax_acc.set_title(name)
    ax_acc.set_xlabel("training step")
    ax_acc.grid(alpha=0.25, lw=0.5)
    ax_loss.set_xlabel("training step")
    loss = df["loss"].to_numpy(float)
    if (loss > 0).all() and loss.max() / loss.min() > 20:
        ax_loss.set_yscale("log")
    ax_loss.grid(alpha=0.25, lw=0.5)


def _bars(ax, acc: pd.DataFrame, column: str, label: str) -> None:
    if acc.empty or column not in acc:
        style.placeholder(ax, "no accuracy table")
        ax.set_title(f"final test {label}")
        return
    tasks, archs = style.ordered(acc["task"], style.task_names()), style.ordered(acc["arch"], style.arch_names())
    width = 0.8 / len(archs)
    x = np.arange(len(tasks))
    for i, arch in enumerate(archs):
        xs = x + (i - (len(archs) - 1) / 2) * width
        for xi, task in zip(xs, tasks):
            vals = acc[(acc["task"] == task) & (acc["arch"] == arch)][column].dropna().to_numpy(float)
            if not len(vals):
                continue
            mean = vals.mean()
            ax.bar(
                xi,
                mean,
                width * 0.92,
                color=style.arch_color(arch),
                yerr=vals.std(ddof=1) if len(vals) > 1 else None,
                capsize=2,
                error_kw={"lw": 0.8},
            )
            if len(vals) > 1:
                ax.scatter(np.full(len(vals), xi), vals, s=6, color="k", zorder=3)
            ax.text(xi, mean + 0.015, f"{mean:.2f}", ha="center", va="bottom", fontsize=5.5, rotation=90)
    ax.set_xticks(x, [style.task_label(t) for t in tasks])
    ax.set_ylim(0, 1.15)
    ax.set_ylabel(label)
    ax.set_title(f"final test {label}\n(greedy, free-running decoding)")
    handles = [plt.Rectangle((0, 0), 1, 1, color=style.arch_color(a), label=style.arch_label(a)) for a in archs]
    ax.legend(handles=handles, frameon=False, ncols=len(archs), loc="upper left")


# Project tokens (tokenize="none"), sacreBLEU's 13a on detokenised text, chrF (docs/science.md §3, Evaluation).
BLEU_COLUMNS = {"test_bleu": "BLEU", "test_bleu_detok": "BLEU\n13a detok.", "test_chrf": "chrF"}


def _translation_scores(ax, acc: pd.DataFrame) -> None:
    """Test BLEU and chrF of the tasks that have them (translation), per architecture:
    the seed mean, each seed a dot."""
    have = [c for c in BLEU_COLUMNS if c in acc]
    rows = acc.dropna(subset=have[:1]) if have else acc.iloc[:0]
    if rows.empty:
        style.placeholder(ax, "no BLEU (no translation in this config)")
        ax.set_title("translation: test BLEU and chrF")
        return
    archs = style.ordered(rows["arch"], style.arch_names())
    width = 0.8 / len(archs)
    x = np.arange(len(have))
    for i, arch in enumerate(archs):
        g = rows[rows["arch"] == arch]
        xs = x + (i - (len(archs) - 1) / 2) * width
        means = [g[c].astype(float).mean() for c in have]
        ax.bar(xs, means, width * 0.92, color=style.arch_color(arch), label=style.arch_label(arch))
        for xi, c, m in zip(xs, have, means):
            ax.scatter(np.full(len(g), xi), g[c].astype(float), s=6, color="k", zorder=3)
            ax.text(xi, m + 0.8, f"{m:.1f}", ha="center", va="bottom", fontsize=6, rotation=90)
    ax.set_xticks(x, [BLEU_COLUMNS[c] for c in have], fontsize=7)
    ax.set_ylim(0, 100)
    n_seeds = rows["seed"].nunique()
    ax.set_title(
        f"translation: test BLEU, chrF\n(greedy, whole test split, {n_seeds} seed{'s' if n_seeds > 1 else ''})"
    )
    ax.legend(frameon=False, ncols=len(archs), loc="upper left", fontsize=7)


def render(analysis: dict[str, str], tables: dict[str, str], pdf: str, png: str, settings: dict) -> None:
    log, acc = inputs.table_or_empty(tables.get("training_log")), inputs.table_or_empty(tables.get("accuracy"))
    needed = {"task", "arch", "seed", "step", "loss", "val_seq_acc"}
    log = log if needed <= set(log) else pd.DataFrame(columns=sorted(needed))
    tasks = (
        style.ordered(set(log["task"]) | (set(acc["task"]) if "task" in acc else set()), style.task_names())
        or style.task_names()[:1]
    )
    n = len(tasks)
    fig = plt.figure(figsize=(max(2.9 * n, 9), 9.4))
    top = fig.add_gridspec(2, n, top=0.9, bottom=0.4, hspace=0.4, wspace=0.3)
    bottom = fig.add_gridspec(1, 3, top=0.31, bottom=0.05, wspace=0.22, width_ratios=[1, 1, 0.7])
    for j, task in enumerate(tasks):
        ax_acc, ax_loss = fig.add_subplot(top[0, j]), fig.add_subplot(top[1, j])
        _curves(ax_acc, ax_loss, log, task)
        if j == 0:
            ax_acc.set_ylabel("validation accuracy")
            ax_loss.set_ylabel("loss (masked cross-entropy)\ntraining —, validation ···")
    _bars(fig.add_subplot(bottom[0, 0]), acc, "test_seq_acc", "sequence accuracy")
    _bars(fig.add_subplot(bottom[0, 1]), acc, "test_token_acc", "token accuracy")
    _translation_scores(fig.add_subplot(bottom[0, 2]), acc)
    archs = style.ordered(log["arch"], style.arch_names()) or style.arch_names()
    handles = [Line2D([], [], color=style.arch_color(a), label=style.arch_label(a)) for a in archs]
    handles += [
        Line2D([], [], color="0.3", ls="-", label="val. sequence accuracy (= greedy exact match)"),
        Line2D([], [], color="0.3", ls="--", lw=0.8, label="val. token accuracy (teacher-forced)"),
        Line2D([], [], color="0.3", ls=":", label="val. loss (the plateau stop reads it)"),
    ]
    fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.955), ncols=len(handles), frameon=False)
    fig.suptitle(
        "Figure 10 — training: validation curves (one line per seed) and final test accuracy, "
        "every task × architecture",
        fontsize=10,
        y=0.995,
    )
    style.save(fig, pdf, png)
