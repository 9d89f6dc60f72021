"""Figure 5. What it shows is declared in ``FIGURE`` below, from which the report's caption
and docs/science.md §5 are made. The code draws one column per model ``FIGURE`` selects (a
placeholder column for one the config lacks), the attention matrices cropped to the decoder
steps and encoder positions any test sequence reaches, and the shares from every seed's
``term_shares`` (:func:`inputs.seed_shares`)."""

from __future__ import annotations

import numpy as np

from . import Figure, inputs, panels, style
from .style import plt

FIGURE = Figure(
    models=lambda task, arch: task.synthetic and arch.attention and arch.paper,
    seed_tables=("term_shares",),
    title="synthetic tasks",
    paper="Fig. 5",
    findings=("F4",),
    caption="reverse and sort (one_to_one for reference), AED and AO: mean and sample attention, overall shares of "
    "the nine score terms",
    description="The synthetic tasks side by side, one column per task × architecture (AED and AO): reverse and "
    "sort, with one_to_one for reference (and any other registered synthetic task). Top, the mean attention Ā; "
    "middle, one test example's attention (both one seed's model, colour scaled to each panel's maximum); bottom, "
    "the overall share of each of the nine score terms at the attended position (``|term| / Σ|terms|``, all test "
    "steps, mean over seeds ± 1 sd). Diagonal (one_to_one) and anti-diagonal (reverse) attention is built from the "
    "temporal terms, content-dependent attention (sort) from the input terms (F4).",
)
ROW_LABELS = ["mean attention Ā", "sample attention", "term shares"]


def _tokens(vocab, ids, n):
    return [str(vocab[i]) for i in np.asarray(ids)[:n]]


def _column(axes, model: inputs.Model | None, first: bool, seeds: inputs.SeedShares) -> None:
    top, mid, bottom = axes
    if model is None:
        for ax in axes:
            style.placeholder(ax, "not in this config")
        return
    a = model.arrays
    if "mean_attention" not in a:
        for ax in axes:
            style.placeholder(ax, "no attention arrays")
        return
    # Ā, cropped to the decoder steps and encoder positions that any test sequence reaches.
    t_max = int((a["dec_step_count"] > 0).sum())
    s_max = int((a["enc_step_count"] > 0).sum())
    agree = model.metric("argmax_agreement")
    panels.attention_matrix(
        top,
        a["mean_attention"],
        f"Ā  (argmax agrees with\nexample on {agree:.0%} of steps)",
        dec_len=t_max,
        enc_len=s_max,
    )
    # One example, cropped to its own lengths, labelled with its words.
    if len(a.get("sample_attention", [])):
        dl, el = int(a["sample_dec_len"][0]), int(a["sample_enc_len"][0])
        src = _tokens(a["src_vocab"], a["sample_enc_tokens"][0], el)
        tgt = _tokens(a["tgt_vocab"], a["sample_targets"][0], dl)
        panels.attention_matrix(
            mid,
            a["sample_attention"][0],
            f"a representative test example (seed {model.seed})",
            dec_len=dl,
            enc_len=el,
            src=src,
            tgt=tgt,
        )
        mid.set_xlabel("input word")
        mid.set_ylabel("output word (target)")
    else:
        style.placeholder(mid, "no sample attention")
    if seeds:
        mu_mu = f"μ·μ share {seeds.mean.get('mu·mu', np.nan):.2f}" + (
            f" ± {seeds.sd['mu·mu']:.2f}" if seeds.n > 1 else ""
        )
        panels.term_shares_overall(
            bottom, seeds.mean, f"{mu_mu}\n({seeds.label})", errors=seeds.sd if seeds.n > 1 else None
        )
    else:
        style.placeholder(bottom, "no term shares")
    if not first:
        for ax in (top, mid, bottom):
            ax.set_ylabel("")
        bottom.set_yticklabels([])


def render(analysis: dict[str, str], tables: dict[str, str], pdf: str, png: str, settings: dict) -> None:
    pairs = FIGURE.pairs()
    models = inputs.load_models(analysis, pairs)
    fig, axes = plt.subplots(
        3, len(pairs), figsize=(2.25 * len(pairs), 8.4), gridspec_kw={"height_ratios": [1, 1.15, 0.8]}, squeeze=False
    )
    for j, (task, arch) in enumerate(pairs):
        _column(
            axes[:, j], models.get(inputs.key(task, arch)), first=j == 0, seeds=inputs.seed_shares(tables, task, arch)
        )
        axes[0, j].annotate(
            style.pair_label(task, arch),
            (0.5, 1.32),
            xycoords="axes fraction",
            ha="center",
            va="bottom",
            fontsize=10,
            fontweight="bold",
            color=style.arch_color(arch),
        )
    for i, label in enumerate(ROW_LABELS):
        axes[i, 0].annotate(
            label,
            (-0.5, 0.5),
            xycoords="axes fraction",
            rotation=90,
            ha="center",
            va="center",
            fontsize=9,
            fontweight="bold",
        )
    fig.suptitle(
        "Figure 5 — synthetic tasks: diagonal (one-to-one), anti-diagonal (reverse) and content-dependent "
        "(sort) attention, and the score terms behind it\n(attention colour scaled to each panel's maximum; "
        "term shares = |term| / Σ|terms| at the attended position, all test steps, mean over seeds ± 1 sd;\n"
        "Ā and the sample: one seed's model)",
        fontsize=10,
        y=1.0,
    )
    # Fixed spacing (tight_layout would lay out every token label once more).
    fig.subplots_adjust(left=0.07, right=0.99, top=0.86, bottom=0.05, wspace=0.32, hspace=0.55)
    style.save(fig, pdf, png)
