"""Figure 8. What it shows is declared in ``FIGURE`` below, from which the report's caption
and docs/science.md §5 are made. The code draws each model's ``alignment_offsets`` and
``word_attention`` tables (docs/science.md §4.7), one row per architecture."""

from __future__ import annotations

import numpy as np
from matplotlib.lines import Line2D

from . import Figure, inputs, style
from .style import plt

FIGURE = Figure(
    # By name rather than by property (an aligned task that is not synthetic): what this
    # figure highlights ("and", "left", "twice") and says is eSCAN's own.
    models=lambda task, arch: task.name == "escan" and arch.attention and arch.paper,
    title="eSCAN mechanism",
    paper="Fig. 8",
    caption="eSCAN, AED and AO: the offsets of the aligned, attended and temporal-only positions per step; attention "
    "around the attended position by word",
    description="How attention follows eSCAN's alignment, AED (top row) and AO (bottom row). (a) Per decoder step "
    "t, the mean offset s − t of the position the data aligns the output with, of the position the model attends "
    "(argmax over s of α_ts) and of the position where the temporal-only score q(μ^D_t)·k(μ^E_s) peaks: the "
    'temporal components carry the average drift that "and" and "left" cause, the input components the deviations '
    "around it. (b) Per input word w at the attended position, the mean attention at offsets −3…+3 from it (colour "
    "saturates at the largest off-centre value, so that the neighbours show). (c) The same for "
    '"and", "left", "twice" and "." as lines (log scale), other words grey.',
)
HIGHLIGHT = {"and": "#ff7f0e", "left": "#2ca02c", "twice": "#9467bd", ".": "#8c564b"}
DATA_COLOR, TEMPORAL_COLOR = "k", "#e377c2"
MIN_SHARE = 0.05  # steps reached by fewer test sequences than this share are left out of (a)
MAX_WORDS = 15
MAX_CLIPPED = 0.1  # share of points (a) may print at its edge instead of widening its range


def _offsets(ax, model: inputs.Model) -> None:
    title = "(a) mean offset s − t of the position each output step uses"
    df = model.table("alignment_offsets")
    if df.empty:
        style.placeholder(ax, "no alignment for this task (alignment_offsets.csv empty)")
        ax.set_title(title)
        return
    df = df.sort_values("step")
    n = df["n"].to_numpy(float)
    df = df[n >= MIN_SHARE * n.max()]
    step = df["step"].to_numpy()
    data = df["data_offset"].to_numpy(float)
    series = [
        ("data_offset", "data's alignment (input word that\nproduces the output)", DATA_COLOR, "-", "o"),
        ("attended_offset", r"attended position, argmax$_s\,\alpha_{ts}$", style.arch_color(model.arch), "-", "s"),
        ("temporal_offset", r"peak of $q(\mu^D_t)\cdot k(\mu^E_s)$ (temporal only)", TEMPORAL_COLOR, "--", "^"),
    ]
    # Clip to the data's range, unless that would hide many points (an untrained model).
    lo, hi = min(float(np.min(data)), 0.0) - 3, float(np.max(data)) + 5
    values = df[[c for c, *_ in series]].to_numpy(float)
    if ((values < lo) | (values > hi)).mean() > MAX_CLIPPED:
        lo, hi = min(lo, float(np.nanmin(values)) - 1), max(hi, float(np.nanmax(values)) + 5)
    ax.axhline(0, color="0.8", lw=0.8, zorder=0)
    ax.text(step[-1], -0.15, "diagonal (s = t)", color="0.55", fontsize=6, va="top", ha="right")
    for k, (column, label, colour, ls, marker) in enumerate(series):
        y = df[column].to_numpy(float)
        inside = (y >= lo) & (y <= hi)
        ax.plot(
            step,
            np.clip(y, lo, hi),
            ls,
            color=colour,
            lw=1.2 if column == "data_offset" else 1.0,
            marker=marker,
            ms=3.5,
            label=label,
            alpha=0.9,
        )
        for t, v in zip(step[~inside], y[~inside]):  # off-scale: mark at the edge with the value
            edge = hi if v > hi else lo
            shift = -10 - 8 * k if v > hi else 4 + 8 * k  # stacked per series
            ax.annotate(
                f"{v:.0f}",
                (t, edge),
                xytext=(0, shift),
                textcoords="offset points",
                fontsize=6.5,
                fontweight="bold",
                color=colour,
                ha="center",
            )
    ax.set_ylim(lo - 0.3, hi + 0.3)
    clipped = bool(((values < lo) | (values > hi)).any())
    ax.set_xlabel("decoder step t")
    ax.set_ylabel("mean offset s − t (input positions)")
    agree = model.metric("alignment_agreement")
    ax.set_title(
        f"{title}\n(attended = data's alignment at {style.pct(agree)} of steps);\n"
        f"steps reached by ≥{MIN_SHARE:.0%} of sequences"
        + ("; off-scale values printed at the edge" if clipped else "")
    )
    ax.legend(frameon=False, fontsize=6, loc="upper center")


def _word_matrix(model: inputs.Model):
    """(words, offsets, attention matrix, counts) from word_attention.csv, ordered as the
    vocabulary (</s> last), at most MAX_WORDS words by count."""
    df = model.table("word_attention")
    if df.empty:
        return None
    df = df.assign(word=df["word"].astype(str))
    table = df.pivot_table(index="word", columns="offset", values="attention", aggfunc="first")
    counts = df.groupby("word")["n"].first()
    vocab = [str(w) for w in model["src_vocab"]]
    rank = {w: (w == "</s>", i) for i, w in enumerate(vocab)}
    words = list(counts.sort_values(ascending=False, kind="stable").index[:MAX_WORDS])
    words.sort(key=lambda w: rank.get(w, (True, len(vocab))))
    offsets = np.array(sorted(table.columns), dtype=int)
    return words, offsets, table.loc[words, offsets].to_numpy(float), counts.loc[words].to_numpy(int)


def _heatmap(ax, model: inputs.Model) -> None:
    title = "(b) mean attention around the attended position, by the word there"
    got = _word_matrix(model)
    if got is None:
        style.placeholder(ax, "no per-word attention table")
        ax.set_title(title)
        return
    words, offsets, m, counts = got
    off_centre = m[:, offsets != 0]
    vmax = float(np.nanmax(off_centre)) if off_centre.size and np.isfinite(off_centre).any() else 1.0
    im = ax.imshow(m, cmap=style.ATTENTION_CMAP, vmin=0, vmax=max(vmax, 1e-6), aspect="auto", interpolation="nearest")
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            if np.isfinite(m[i, j]):
                ax.text(
                    j,
                    i,
                    f"{m[i, j]:.2f}",
                    ha="center",
                    va="center",
                    fontsize=5.5,
                    color="k" if m[i, j] > 0.6 * vmax else "w",
                )
    ax.set_xticks(range(len(offsets)), [f"{o:+d}" if o else "0 (attended)" for o in offsets])
    ax.set_yticks(range(len(words)), [f"{w}  (n={c})" for w, c in zip(words, counts)])
    for label, w in zip(ax.get_yticklabels(), words):
        if w in HIGHLIGHT:
            label.set_color(HIGHLIGHT[w])
            label.set_fontweight("bold")
    ax.set_xlabel("offset from the attended position (input positions)")
    ax.set_ylabel("input word at the attended position")
    ax.set_title(f"{title}\n(colour saturates at the largest off-centre value, {vmax:.2f})")
    cbar = ax.figure.colorbar(im, ax=ax, fraction=0.05, pad=0.02, extend="max")
    cbar.set_label("mean attention weight")


def _lines(ax, model: inputs.Model) -> None:
    title = "(c) the same as lines: attention spread by word"
    got = _word_matrix(model)
    if got is None:
        style.placeholder(ax, "no per-word attention table")
        ax.set_title(title)
        return
    words, offsets, m, _ = got
    floor = 1e-3
    handles = []
    for w, row in zip(words, m):
        special = w in HIGHLIGHT
        ax.plot(
            offsets,
            np.maximum(row, floor),
            "-o" if special else "-",
            color=HIGHLIGHT.get(w, "0.75"),
            lw=1.5 if special else 0.8,
            ms=3,
            zorder=3 if special else 2,
        )
        if special:
            handles.append(Line2D([], [], color=HIGHLIGHT[w], marker="o", ms=3, lw=1.5, label=f'"{w}"'))
    handles.append(Line2D([], [], color="0.75", lw=0.8, label="other words"))
    ax.set_yscale("log")
    ax.set_ylim(floor * 0.8, 1.2)
    ax.set_xticks(offsets, [f"{o:+d}" if o else "0" for o in offsets])
    ax.axvline(0, color="0.85", lw=0.6, zorder=0)
    ax.set_xlabel("offset from the attended position")
    ax.set_ylabel("mean attention weight (log)")
    ax.set_title(f"{title}\n(values below {floor:g} drawn at {floor:g})")
    ax.legend(handles=handles, frameon=False, fontsize=6, loc="upper right")


def render(analysis: dict[str, str], tables: dict[str, str], pdf: str, png: str, settings: dict) -> None:
    pairs = FIGURE.pairs()
    models = inputs.load_models(analysis, pairs)
    fig, axes = plt.subplots(
        len(pairs), 3, figsize=(15, 4.8 * len(pairs)), squeeze=False, gridspec_kw={"width_ratios": [1.15, 1.1, 0.85]}
    )
    for i, (task, arch) in enumerate(pairs):
        model = models.get(inputs.key(task, arch))
        if model is None:
            for ax in axes[i]:
                style.placeholder(ax, f"{style.pair_label(task, arch, ' / ')} not in this config")
        else:
            _offsets(axes[i, 0], model)
            _heatmap(axes[i, 1], model)
            _lines(axes[i, 2], model)
    fig.subplots_adjust(left=0.07, right=0.99, top=0.86, bottom=0.07, wspace=0.42, hspace=0.62)
    for i, (task, arch) in enumerate(pairs):
        box = axes[i, 0].get_position()
        fig.text(
            0.008,
            (box.y0 + box.y1) / 2,
            style.pair_label(task, arch),
            rotation=90,
            ha="left",
            va="center",
            fontsize=11,
            fontweight="bold",
            color=style.arch_color(arch),
        )
    fig.suptitle(
        "Figure 8 — eSCAN mechanism: the temporal components follow the average drift off the diagonal "
        'that "and" and "left" cause;\nthe words at and around the attended position shape the '
        "deviations (attention at offsets −3…+3 from the attended position)",
        fontsize=11,
        y=0.985,
    )
    style.save(fig, pdf, png)
