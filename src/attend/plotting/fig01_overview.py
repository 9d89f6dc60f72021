"""Figure 1. What it shows is declared in ``FIGURE`` below, from which the report's caption
and docs/science.md §5 are made. The code draws the one model ``FIGURE`` selects: the
attention matrix of the test sequence it saved (``sample_attention``), and its encoder and
decoder states with :func:`panels.pca_trajectories`; placeholders where the config lacks it."""

from __future__ import annotations

from . import Figure, inputs, models_named, panels, style
from .style import plt

FIGURE = Figure(
    models=models_named(("one_to_one", "aed")),
    title="overview",
    paper="Fig. 1",
    caption="AED on one_to_one: a sample attention matrix; the states in PCA space with the temporal trajectories "
    "μ_t and the input components χ(w) drawn on them",
    description="The recurrent encoder-decoder with attention (AED) on one_to_one, one seed's model. (a) The "
    "attention matrix α_ts of one test sequence, labelled with its words. (b, c) Encoder and decoder hidden states "
    "in PCA space: the temporal trajectory μ_t (line) and the input components μ̄ + χ(w) (crosses), the two parts "
    "of h = μ_t + χ(w) + Δ.",
)


def _attention_panel(ax, model: inputs.Model | None, missing: str) -> None:
    title = "attention of one test sequence"
    if model is None or "sample_attention" not in model.arrays or not len(model["sample_attention"]):
        style.placeholder(ax, missing if model is None else "no sample attention saved")
        ax.set_title(title)
        return
    a = model.arrays
    enc_len, dec_len = int(a["sample_enc_len"][0]), int(a["sample_dec_len"][0])
    src = [str(a["src_vocab"][w]) for w in a["sample_enc_tokens"][0, :enc_len]]
    tgt = [str(a["tgt_vocab"][w]) for w in a["sample_targets"][0, :dec_len]]
    panels.attention_matrix(
        ax,
        a["sample_attention"][0],
        dec_len=dec_len,
        enc_len=enc_len,
        src=src,
        tgt=tgt,
        title=f"{title}: " + r"$\alpha_{ts}$" + f"\n({enc_len} input tokens, incl. </s>)",
    )
    ax.set_xlabel("encoder position s (input word)")
    ax.set_ylabel("decoder step t (output word)")
    cbar = ax.figure.colorbar(ax.images[0], ax=ax, fraction=0.05, pad=0.02)
    cbar.set_label("attention weight")


def _pca_panel(ax, model: inputs.Model | None, side: str, missing: str) -> None:
    name = "encoder" if side == "enc" else "decoder"
    title = f"{name} hidden states in PCA space"
    if model is None:
        style.placeholder(ax, missing)
        ax.set_title(title)
        return
    panels.pca_trajectories(ax, model, side)
    word = "input word" if side == "enc" else "decoder input (previous output) word"
    ax.set_title(
        f"{title}\nline: temporal trajectory " + r"$\mu_t$" + "; ×: " + r"$\bar\mu + \chi(w)$" + f"\nper {word}"
    )
    ax.legend(frameon=False, loc="best", fontsize=6)
    if ax.collections:
        cbar = ax.figure.colorbar(ax.collections[0], ax=ax, fraction=0.05, pad=0.02)
        cbar.set_label(f"{name} position")
        cbar.solids.set_alpha(1)


def render(analysis: dict[str, str], tables: dict[str, str], pdf: str, png: str, settings: dict) -> None:
    [(task, arch)] = FIGURE.pairs()
    model = inputs.load_models(analysis, [(task, arch)]).get(inputs.key(task, arch))
    missing = f"{style.pair_label(task, arch, ' / ')} not in this config"
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.9), gridspec_kw={"width_ratios": [1.05, 1, 1], "wspace": 0.45})
    _attention_panel(axes[0], model, missing)
    _pca_panel(axes[1], model, "enc", missing)
    _pca_panel(axes[2], model, "dec", missing)
    for ax, letter in zip(axes, "abc"):
        ax.text(-0.14, 1.0, letter, transform=ax.transAxes, fontsize=12, fontweight="bold", va="bottom")
    fig.suptitle(
        "Figure 1 — overview, one-to-one with AED: a sample attention matrix, and hidden states "
        r"$h = \mu_t + \chi(w) + \Delta$ with the temporal trajectory $\mu_t$ and the input "
        r"components $\chi(w)$ drawn",
        fontsize=10,
        y=1.04,
    )
    style.save(fig, pdf, png)
