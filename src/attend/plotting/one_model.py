"""The figures of one model's measurements, for ``attend analyse`` (attend.probe_report): what
``attend.analysis.measure.measure`` returns for one probe, drawn without the workflow.
(Not a ``figNN_`` module: those are the workflow's figures, one rule each.)

Each figure is declared once in :data:`FIGURES`: its file name, what it shows, and the
function that draws it on a matplotlib figure from the tables and arrays. A figure whose
inputs the probe did not allow draws a panel that says why, so every run writes the same
files; ``units`` is drawn only for a model of several heads or layers, ``gold_alignment``
(figure 13's row) only for a probe with human word alignments.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..table_layout import WHOLE_MODEL, whole_model
from . import fig13_gold_alignment as gold
from . import inputs, panels, style
from .style import pct, placeholder, plt

MAX_SAMPLES = 4  # sample sequences drawn beside Ā


class Measured(inputs.Model):
    """One model's measurements held in memory (``measure``'s tables and arrays), with
    the interface of :class:`attend.plotting.inputs.Model`, so that the workflow's panels
    draw it."""

    def __init__(self, tables: dict[str, pd.DataFrame], arrays: dict[str, np.ndarray], name: str = ""):
        self.tables, self.arrays = tables, arrays
        self.arch = str(arrays.get("arch", "")) or name
        self.task, self.key, self.path = "", name, Path(".")

    def table(self, name: str) -> pd.DataFrame:
        return whole_model(self.tables.get(name, pd.DataFrame()))

    def units(self, name: str) -> pd.DataFrame:
        """The rows of one (layer, head) each of a table with those columns."""
        df = self.tables.get(name, pd.DataFrame())
        if df.empty or "layer" not in df.columns:
            return df.iloc[:0]
        return df[(df["layer"] != WHOLE_MODEL) & (df["head"] != WHOLE_MODEL)]

    @property
    def title(self) -> str:
        return self.key


def _lengths(model: Measured) -> tuple[int, int]:
    a = model.arrays
    return panels._valid_length(a["dec_step_count"]), panels._valid_length(a["enc_step_count"])


def _no_attention(fig, title: str) -> None:
    ax = fig.add_subplot(1, 1, 1)
    placeholder(ax, "the probe has no attention: nothing to draw")
    ax.set_title(title)


def draw_attention(fig, model: Measured) -> None:
    """Sample sequences' attention beside Ā, the mean attention over every probed sequence."""
    a = model.arrays
    if "mean_attention" not in a:
        return _no_attention(fig, "attention beside the mean attention")
    k = min(len(a["sample_attention"]), MAX_SAMPLES)
    axes = fig.subplots(1, k + 1, squeeze=False)[0]
    src_vocab, tgt_vocab = a["src_vocab"], a["tgt_vocab"]
    for i, ax in enumerate(axes[:k]):
        dl, el = int(a["sample_dec_len"][i]), int(a["sample_enc_len"][i])
        src = [str(src_vocab[w]) for w in a["sample_enc_tokens"][i, :el]]
        tgt = [str(tgt_vocab[w]) for w in a["sample_targets"][i, :dl]] if "sample_targets" in a else None
        panels.attention_matrix(
            ax,
            a["sample_attention"][i],
            dec_len=dl,
            enc_len=el,
            src=src,
            tgt=tgt,
            title=f"sequence {int(a['sample_index'][i])}: {el} in, {dl} out",
        )
    T, S = _lengths(model)
    n = int(a["dec_step_count"][0])
    panels.attention_matrix(
        axes[k],
        a["mean_attention"],
        dec_len=T,
        enc_len=S,
        title=r"mean attention $\bar A$" + f" ({n} sequences)\nexamples' argmax = "
        f"$\\bar A$'s at {pct(model.metric('argmax_agreement'))} of steps",
    )


def draw_term_shares(fig, model: Measured) -> None:
    """The nine score terms' shares at the attended position, per decoder step and overall."""
    a = model.arrays
    if "term_share_by_step" not in a:
        return _no_attention(fig, "score-term shares")
    by_step, overall = fig.subplots(1, 2, gridspec_kw={"width_ratios": [2.2, 1]})
    names = [str(n) for n in a["term_names"]]
    panels.term_shares_by_step(
        by_step,
        a["term_share_by_step"],
        names,
        step_count=a["dec_step_count"],
        title="shares of the nine score terms at the attended position, by decoder step",
    )
    by_step.legend(
        frameon=False,
        fontsize=6,
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        title="decoder·encoder",
        title_fontsize=6,
    )
    shares = model.overall_shares()
    with_mu = sum(v for n, v in shares.items() if "mu" in n)
    panels.term_shares_overall(
        overall, shares, f"over every step: μ·μ {shares.get('mu·mu', np.nan):.2f},\nterms with a μ {with_mu:.2f}"
    )
    fig.subplots_adjust(wspace=0.75)


APPROXIMATION_METRICS = {  # approximation.csv's metric -> how the figure names it
    "argmax_agreement": "example argmax = $\\bar A$'s",
    "temporal_argmax_agreement": "temporal-only argmax = $\\bar A$'s",
    "temporal_example_agreement": "temporal-only argmax = example's",
    "alignment_agreement": "example argmax = the alignment",
    "near_diagonal": "example argmax within 1 of the diagonal",
}


def draw_approximation(fig, model: Measured) -> None:
    """How well Ā, and the temporal components alone (softmax of μ·μ), stand in for the
    examples' attention: the two matrices side by side and the agreement of their argmax."""
    a = model.arrays
    if "mean_attention" not in a:
        return _no_attention(fig, "the average-attention approximation")
    mean_ax, temporal_ax, bars = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 1, 1.3]})
    T, S = _lengths(model)
    panels.attention_matrix(mean_ax, a["mean_attention"], dec_len=T, enc_len=S, title=r"mean attention $\bar A$")
    panels.attention_matrix(
        temporal_ax,
        a["temporal_attention"],
        dec_len=T,
        enc_len=S,
        title="temporal-only attention\n" + r"softmax$_s(q(\mu^D_t)\cdot k(\mu^E_s))$",
    )
    names = [m for m in APPROXIMATION_METRICS if np.isfinite(model.metric(m))]
    values = [model.metric(m) for m in names]
    bars.barh(range(len(names)), values, color="#4c72b0")
    for i, v in enumerate(values):
        bars.text(
            min(v, 0.98),
            i,
            f" {v:.0%}",
            va="center",
            ha="right" if v > 0.85 else "left",
            fontsize=7,
            color="w" if v > 0.85 else "k",
        )
    bars.set_yticks(range(len(names)), [APPROXIMATION_METRICS[m] for m in names])
    bars.invert_yaxis()
    bars.set_xlim(0, 1)
    bars.set_xlabel("fraction of valid decoder steps")
    bars.set_title(
        f"argmax agreement (mean total-variation distance\nexample to $\\bar A$: {model.metric('tv_distance'):.2f})"
    )
    fig.subplots_adjust(wspace=0.95)


def draw_word_variance(fig, model: Measured) -> None:
    """The within-word variance of the encoder's and the decoder's states, before and
    after removing μ_t."""
    colour = style.arch_color(model.arch) if model.arch in style.arch_names() else "#4c72b0"
    for ax, side in zip(fig.subplots(1, 2), ("encoder", "decoder")):
        panels.word_variance(ax, model.tables.get("word_variance", pd.DataFrame()), side, colour)
    fig.subplots_adjust(wspace=0.3)


def draw_mechanism(fig, model: Measured) -> None:
    """Figure 2's layout for this model: temporal trajectories, temporal-only attention
    beside Ā, the input components through the value path, the term shares."""
    panels.one_task_mechanism(fig, model)


UNIT_MAPS = {  # what the units figure maps over (layer, head)
    "μ·μ share": lambda shares, approx: shares.get("mu·mu"),
    "share of the terms with a μ": lambda shares, approx: sum(v for k, v in shares.items() if "mu" in k),
    "argmax agreement with its own $\\bar A$": lambda shares, approx: approx.get("argmax_agreement"),
}


def draw_units(fig, model: Measured) -> None:
    """Per (layer, head): its μ·μ share, the share of the terms with a μ, and how often an
    example attends where the unit's own Ā peaks."""
    shares, approx = model.units("term_shares"), model.units("approximation")
    shares = shares[shares["step"] == -1]
    layers, heads = sorted(set(shares["layer"])), sorted(set(shares["head"]))
    for ax, (title, value) in zip(fig.subplots(1, len(UNIT_MAPS)), UNIT_MAPS.items()):
        grid = np.full((len(layers), len(heads)), np.nan)
        for (layer, head), rows in shares.groupby(["layer", "head"]):
            metrics = approx[(approx["layer"] == layer) & (approx["head"] == head)]
            grid[layers.index(layer), heads.index(head)] = value(
                dict(zip(rows["term"], rows["share"])), dict(zip(metrics["metric"], metrics["value"]))
            )
        image = ax.imshow(grid, vmin=0, vmax=1, cmap="magma", aspect="auto", interpolation="nearest")
        ax.set_xticks(range(len(heads)), heads)
        ax.set_yticks(range(len(layers)), layers)
        ax.set_xlabel("head")
        ax.set_ylabel("layer")
        ax.set_title(title)
        fig.colorbar(image, ax=ax, fraction=0.05, pad=0.03)
    fig.subplots_adjust(wspace=0.4)


def draw_gold_alignment(fig, model: Measured) -> None:
    """Figure 13's row for this model: each unit's AER on the human word alignments against
    its μ·μ share (the whole model, the diagonal), and one gold sentence's links over its
    attention, temporal-only attention and attention without μ·μ."""
    axes = fig.subplots(1, gold.COLUMNS)
    colour = style.arch_color(model.arch) if model.arch in style.arch_names() else "#4c72b0"
    gold.units_panel(axes[0], model.tables[gold.TABLE], colour, "units")
    for ax, (reading, name) in zip(axes[1:], gold.SENTENCE_READINGS.items()):
        gold.sentence_panel(ax, model.arrays, reading, f"{name} (pair {int(model.arrays['gold_sentence'])})")
    fig.subplots_adjust(wspace=0.45)


@dataclass(frozen=True)
class OneModelFigure:
    name: str  # the file name, without suffix
    caption: str
    draw: Callable
    size: tuple[float, float]
    applies: Callable[[Measured], bool] = lambda model: True


FIGURES = (
    OneModelFigure("attention", "sample sequences' attention beside the mean attention Ā", draw_attention, (14, 3.6)),
    OneModelFigure(
        "term_shares",
        "the nine score terms' shares at the attended position, by decoder step",
        draw_term_shares,
        (11, 3.6),
    ),
    OneModelFigure(
        "approximation",
        "Ā and the temporal-only attention, and how often their argmax agrees",
        draw_approximation,
        (15, 3.6),
    ),
    OneModelFigure(
        "word_variance", "within-word variance before and after removing μ_t", draw_word_variance, (11, 3.6)
    ),
    OneModelFigure("mechanism", "the paper's Figure 2 layout for this model", draw_mechanism, (15, 8.2)),
    OneModelFigure(
        "units",
        "per (layer, head): μ·μ share, share with a μ, argmax agreement",
        draw_units,
        (13, 3.4),
        applies=lambda model: "unit_layer" in model.arrays,
    ),
    OneModelFigure(
        "gold_alignment",
        "attention against human word alignments: each unit's AER against its μ·μ share; one gold sentence's links "
        "over the attention, the temporal-only attention and the attention without μ·μ",
        draw_gold_alignment,
        (17, 3.9),
        applies=lambda model: "gold_sentence_links" in model.arrays,
    ),
)


def render(
    tables: dict[str, pd.DataFrame], arrays: dict[str, np.ndarray], out: str | Path, name: str = ""
) -> list[Path]:
    """Draw every figure of :data:`FIGURES` that applies into ``out`` as PNG and PDF;
    return the files written."""
    model, out, written = Measured(tables, arrays, name), Path(out), []
    for figure in FIGURES:
        if not figure.applies(model):
            continue
        fig = plt.figure(figsize=figure.size)
        figure.draw(fig, model)
        fig.suptitle(f"{name}: {figure.caption}" if name else figure.caption, fontsize=10, y=1.02)
        pdf, png = out / f"{figure.name}.pdf", out / f"{figure.name}.png"
        style.save(fig, str(pdf), str(png))
        written += [png, pdf]
    return written
