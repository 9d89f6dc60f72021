"""Figure 7. What it shows is declared in ``FIGURE`` below, from which the report's caption
and docs/science.md §5 are made. The code draws one column per model ``FIGURE`` selects (a
placeholder column for one the config lacks), from its ``word_variance`` and ``dictionary``
tables and every seed's ``term_shares``; the word panels show the ``N_WORDS`` most frequent
words."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from . import Figure, inputs, panels, style
from .style import plt

FIGURE = Figure(
    models=lambda task, arch: not task.synthetic and arch.attention and arch.paper,  # eSCAN and translation
    seed_tables=("term_shares",),
    title="eSCAN and translation",
    paper="Fig. 7",
    findings=("F2", "F3", "F4"),
    caption="eSCAN and translation, AED and AO: sample attention, term shares, word variance before and after "
    "removing μ_t, readout alignment",
    description="eSCAN and English→French translation, one column per task × architecture (AED and AO). (a) The "
    "attention matrix of one test sequence, labelled with its words. (b) The overall share of each of the nine "
    "score terms at the attended position, the mean over seeds. (c) The within-word variance of the encoder states "
    "before and after removing the temporal component μ_t. (d) Readout alignment of the input components: the "
    "cosine between V χ^E(w) and the readout column of w's translation (eSCAN; marked correct when argmax W_c V "
    "χ^E(w) is the translation), or, for translation, which has no dictionary, of the word it reads out (word → "
    "predicted).",
)
N_WORDS = 15  # most frequent words shown in the word-variance and readout panels
CORRECT, WRONG, NO_DICT = "#2ca02c", "#d62728", "#9e9e9e"
ROW_LABELS = ["a  sample attention", "b  score-term shares", "c  word variance (encoder)", "d  readout alignment"]


def _sample(ax, model: inputs.Model) -> None:
    a = model.arrays
    if "sample_attention" not in a or not len(a["sample_attention"]):
        style.placeholder(ax, "no sample attention saved")
        ax.set_title("attention of one test sequence")
        return
    dl, el = int(a["sample_dec_len"][0]), int(a["sample_enc_len"][0])
    src = [str(a["src_vocab"][w]) for w in a["sample_enc_tokens"][0, :el]]
    tgt = [str(a["tgt_vocab"][w]) for w in a["sample_targets"][0, :dl]]
    panels.attention_matrix(
        ax,
        a["sample_attention"][0],
        dec_len=dl,
        enc_len=el,
        src=src,
        tgt=tgt,
        title=r"attention $\alpha_{ts}$, test sequence " + f"{int(a.get('sample_index', [0])[0]) + 1} "
        f"(seed {model.seed})\n{el} in, {dl} out; right, of median length",
    )
    ax.set_xlabel("input word (encoder position s)")
    ax.set_ylabel("output word (decoder step t)")
    ax.tick_params(axis="both", length=1.5, pad=1)


def _shares(ax, seeds: inputs.SeedShares) -> None:
    if not seeds:
        style.placeholder(ax, "no term shares")
        ax.set_title("overall term shares")
        return
    temporal = seeds.mean.get("mu·mu", np.nan)
    no_mu = sum(v for k, v in seeds.mean.items() if "mu" not in k)
    panels.term_shares_overall(
        ax,
        seeds.mean,
        f"nine score-term shares (dec·enc),\n{seeds.label}; " + f"μ·μ = {temporal:.2f},\nterms without μ = {no_mu:.2f}",
        errors=seeds.sd if seeds.n > 1 else None,
    )


def _word_variance(ax, model: inputs.Model) -> None:
    panels.word_variance(ax, model.table("word_variance"), "encoder", style.arch_color(model.arch), N_WORDS)


def _readout(ax, model: inputs.Model) -> None:
    title = "readout alignment of the input components"
    df = model.table("dictionary")
    if df.empty:
        style.placeholder(ax, "no dictionary table")
        ax.set_title(title)
        return
    df = df.sort_values("count", ascending=False, kind="stable").head(N_WORDS)
    correct = pd.to_numeric(df["correct"], errors="coerce").to_numpy(float)
    cosine = pd.to_numeric(df["cosine"], errors="coerce").to_numpy(float)
    ordinary = (df["word"].astype(str) != "</s>").to_numpy()
    has_dict = bool(np.isfinite(correct[ordinary]).any())
    labels, colours = [], []
    for (_, row), ok in zip(df.iterrows(), correct):
        label = f"{row['word']} → {row['predicted']}"
        if np.isfinite(ok) and not ok:
            label += f"  (≠ {row['translation']})"
        labels.append(label)
        colours.append(NO_DICT if not np.isfinite(ok) else CORRECT if ok else WRONG)
    y = np.arange(len(df))
    ax.barh(y, cosine, color=colours, height=0.7)
    ax.set_yticks(y, labels, fontsize=6)
    ax.tick_params(axis="y", length=1.5, pad=1)
    ax.invert_yaxis()
    ax.axvline(0, color="0.3", lw=0.6)
    ax.set_xlim(min(-0.2, float(np.nanmin(cosine, initial=0)) - 0.05), 1)
    ax.set_xlabel(r"cosine$(V\chi^E(w),\ W_c[:, \mathrm{target}])$")
    readout = r"argmax $W_c V\chi^E(w)$"
    if has_dict:
        known = np.isfinite(correct)
        ax.set_title(
            f"readout alignment: input word → {readout}\n"
            + f"= its translation for {int(correct[known].sum())} of {int(known.sum())} words\n"
            + "(green/red: right/wrong; grey: no one-word\n"
            + "translation, cosine to the predicted word's column)"
        )
    else:
        ax.set_title(
            f"readout alignment: input word → {readout}\n"
            + f"(no dictionary; {len(df)} most frequent words;\n"
            + "grey: cosine to the predicted word's column)"
        )


def _column(axes, model: inputs.Model | None, first: bool, seeds: inputs.SeedShares) -> None:
    if model is None:
        for ax in axes:
            style.placeholder(ax, "not in this config")
        return
    _sample(axes[0], model)
    _shares(axes[1], seeds)
    if not first:
        axes[1].set_yticklabels([])
    axes[1].set_xticks([0, 0.5, 1])
    _word_variance(axes[2], model)
    axes[2].yaxis.set_major_locator(MaxNLocator(4))
    _readout(axes[3], model)
    axes[3].xaxis.set_major_locator(MaxNLocator(4))


def render(analysis: dict[str, str], tables: dict[str, str], pdf: str, png: str, settings: dict) -> None:
    pairs = FIGURE.pairs()
    models = inputs.load_models(analysis, pairs)
    fig, axes = plt.subplots(
        4,
        len(pairs),
        figsize=(3.5 * len(pairs), 15.5),
        gridspec_kw={"height_ratios": [1.45, 0.6, 0.8, 0.95]},
        squeeze=False,
    )
    for j, (task, arch) in enumerate(pairs):
        _column(
            axes[:, j], models.get(inputs.key(task, arch)), first=j == 0, seeds=inputs.seed_shares(tables, task, arch)
        )
        axes[0, j].annotate(
            style.pair_label(task, arch),
            (0.5, 1.0),
            xycoords="axes fraction",
            xytext=(0, 32),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=11,
            fontweight="bold",
            color=style.arch_color(arch),
        )
    fig.suptitle(
        "Figure 7 — eSCAN and English→French translation: attention is near-diagonal with input-dependent "
        "deviations;\nscore-term shares, within-word variance before/after removing the temporal component "
        r"$\mu_t$, and readout alignment of the input components $\chi^E$",
        fontsize=11,
        y=0.995,
    )
    fig.subplots_adjust(left=0.1, right=0.99, top=0.9, bottom=0.03, wspace=0.65, hspace=0.6)
    for i, label in enumerate(ROW_LABELS):
        box = axes[i, 0].get_position()
        fig.text(
            0.008, (box.y0 + box.y1) / 2, label, rotation=90, ha="left", va="center", fontsize=10, fontweight="bold"
        )
    style.save(fig, pdf, png)
