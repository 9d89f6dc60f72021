"""Figure 10 (PAPER.md §5.10): training of every task × architecture. Validation
sequence (and token) accuracy and training loss against optimiser step, one panel per
task with a line per architecture and seed; final greedy (free-running) test accuracy."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from . import Figure, style
from .style import plt

FIGURE = Figure(
    tables=("training_log", "accuracy"),
    caption="training: validation accuracy and loss against step per task, final test accuracy",
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
        for seed, g in df[df["arch"] == arch].groupby("seed"):
            g = g.sort_values("step")
            c = style.arch_color(arch)
            ax_acc.plot(g["step"], g["val_seq_acc"], "-", color=c, lw=1.2)
            if "val_token_acc" in g:
                ax_acc.plot(g["step"], g["val_token_acc"], "--", color=c, lw=0.8, alpha=0.7)
            ax_loss.plot(g["step"], g["loss"], "-", color=c, lw=1.2)
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
            ax.bar(xi, mean, width * 0.92, color=style.arch_color(arch),
                   yerr=vals.std(ddof=1) if len(vals) > 1 else None, capsize=2, error_kw={"lw": 0.8})
            if len(vals) > 1:
                ax.scatter(np.full(len(vals), xi), vals, s=6, color="k", zorder=3)
            ax.text(xi, mean + 0.015, f"{mean:.2f}", ha="center", va="bottom", fontsize=5.5, rotation=90)
    ax.set_xticks(x, [style.task_label(t) for t in tasks])
    ax.set_ylim(0, 1.15)
    ax.set_ylabel(label)
    ax.set_title(f"final test {label} (greedy, free-running decoding)")
    handles = [plt.Rectangle((0, 0), 1, 1, color=style.arch_color(a), label=style.arch_label(a)) for a in archs]
    ax.legend(handles=handles, frameon=False, ncols=len(archs), loc="upper left")


def render(analysis: dict[str, str], tables: dict[str, str], pdf: str, png: str, settings: dict) -> None:
    log, acc = style.table_or_empty(tables.get("training_log")), style.table_or_empty(tables.get("accuracy"))
    needed = {"task", "arch", "seed", "step", "loss", "val_seq_acc"}
    log = log if needed <= set(log) else pd.DataFrame(columns=sorted(needed))
    tasks = style.ordered(set(log["task"]) | (set(acc["task"]) if "task" in acc else set()),
                          style.task_names()) or style.task_names()[:1]
    n = len(tasks)
    fig = plt.figure(figsize=(max(2.7 * n, 8), 9.2))
    top = fig.add_gridspec(2, n, top=0.9, bottom=0.4, hspace=0.4, wspace=0.3)
    bottom = fig.add_gridspec(1, 2, top=0.31, bottom=0.05, wspace=0.18)
    for j, task in enumerate(tasks):
        ax_acc, ax_loss = fig.add_subplot(top[0, j]), fig.add_subplot(top[1, j])
        _curves(ax_acc, ax_loss, log, task)
        if j == 0:
            ax_acc.set_ylabel("validation accuracy")
            ax_loss.set_ylabel("training loss (masked cross-entropy)")
    _bars(fig.add_subplot(bottom[0, 0]), acc, "test_seq_acc", "sequence accuracy")
    _bars(fig.add_subplot(bottom[0, 1]), acc, "test_token_acc", "token accuracy")
    archs = style.ordered(log["arch"], style.arch_names()) or style.arch_names()
    handles = [Line2D([], [], color=style.arch_color(a), label=style.arch_label(a)) for a in archs]
    handles += [Line2D([], [], color="0.3", ls="-", label="val. sequence accuracy (= greedy exact match)"),
                Line2D([], [], color="0.3", ls="--", lw=0.8, label="val. token accuracy (teacher-forced)")]
    fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.955), ncols=len(handles), frameon=False)
    fig.suptitle("Figure 10 — training: validation curves (one line per seed) and final test accuracy, "
                 "every task × architecture", fontsize=10, y=0.995)
    style.save(fig, pdf, png)
