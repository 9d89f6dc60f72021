"""Panels that several figures draw."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..architectures import ARCHITECTURES
from . import inputs, style
from .style import ATTENTION_CMAP, TERM_COLORS, TERM_LABELS, pct, placeholder


def attention_matrix(
    ax,
    matrix: np.ndarray,
    title: str = "",
    dec_len: int | None = None,
    enc_len: int | None = None,
    src: list[str] | None = None,
    tgt: list[str] | None = None,
) -> None:
    """A (T, S) attention matrix, decoder steps down, encoder positions across; cropped to
    the valid lengths when given, with token labels when given."""
    m = matrix[: dec_len or matrix.shape[0], : enc_len or matrix.shape[1]]
    ax.imshow(m, cmap=ATTENTION_CMAP, vmin=0, vmax=max(float(m.max()), 1e-6), aspect="auto", interpolation="nearest")
    ax.set_xlabel("encoder position s")
    ax.set_ylabel("decoder step t")
    if src is not None and len(src) <= 30:
        ax.set_xticks(range(len(src)), src, rotation=90, fontsize=5)
    if tgt is not None and len(tgt) <= 30:
        ax.set_yticks(range(len(tgt)), tgt, fontsize=5)
    ax.set_title(title)


def term_shares_by_step(
    ax, shares: np.ndarray, names, title: str = "", step_count=None, mu_mu_sd: np.ndarray | None = None
) -> None:
    """Stacked shares of the nine terms at the attended position per decoder step (with an
    error bar of one standard deviation over seeds on the μ·μ share, when given)."""
    steps = np.arange(len(shares))
    if step_count is not None:
        keep = step_count[: len(shares)] > 0
        steps, shares = steps[keep], shares[keep]
        mu_mu_sd = None if mu_mu_sd is None else mu_mu_sd[keep]
    bottom = np.zeros(len(steps))
    for i, name in enumerate(names):
        name = str(name)
        ax.bar(steps, shares[:, i], bottom=bottom, color=TERM_COLORS[name], label=TERM_LABELS[name], width=0.9)
        if name == "mu·mu" and mu_mu_sd is not None:
            ax.errorbar(
                steps, bottom + shares[:, i], yerr=mu_mu_sd, fmt="none", ecolor="0.15", elinewidth=0.8, capsize=1.5
            )
        bottom += shares[:, i]
    ax.set_xlabel("decoder step t")
    ax.set_ylabel("share of |score| at attended s")
    ax.set_ylim(0, 1)
    ax.set_title(title)


def term_shares_overall(ax, shares: dict[str, float], title: str = "", errors: dict[str, float] | None = None) -> None:
    """Horizontal bars: the overall share of each term (with error bars, when given: one
    standard deviation over seeds)."""
    names = list(TERM_COLORS)
    values = [shares.get(n, np.nan) for n in names]
    xerr = [errors.get(n, 0.0) for n in names] if errors else None
    ax.barh(
        range(len(names)),
        values,
        color=[TERM_COLORS[n] for n in names],
        xerr=xerr,
        error_kw={"elinewidth": 0.8, "capsize": 1.5, "ecolor": "0.2"},
    )
    ax.set_yticks(range(len(names)), [TERM_LABELS[n] for n in names])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share at attended position")
    ax.set_title(title)


def pca_trajectories(ax, model, side: str, dims=(0, 1), n_words: int = 12) -> None:
    """Sampled states of one side in PCA coordinates, coloured by position, with the
    temporal trajectory μ_t (line) and μ̄ + χ(w) for the most frequent words (labels)."""
    a = model.arrays
    basis, mean = a[f"{side}_pca_basis"], a[f"{side}_pca_mean"]
    pts, steps = a[f"{side}_points"], a[f"{side}_point_steps"]
    i, j = dims
    ax.scatter(pts[:, i], pts[:, j], c=steps, cmap="cool", s=2, alpha=0.35, linewidths=0)
    count = a[f"{side}_step_count"]
    mu = (a[f"{side}_mu"][count > 0] - mean) @ basis.T
    ax.plot(mu[:, i], mu[:, j], "-o", color="k", ms=2, lw=1, label="μ_t")
    vocab = a["src_vocab"] if side == "enc" else a["tgt_vocab"]
    words = np.argsort(-a[f"{side}_word_count"])[:n_words]
    centre = a[f"{side}_mu"][count > 0].mean(0)
    chi = (centre + a[f"{side}_chi"][words] - mean) @ basis.T
    ax.scatter(chi[:, i], chi[:, j], marker="x", color="k", s=12)
    for w, (x, y) in zip(words, chi[:, [i, j]]):
        ax.annotate(str(vocab[w]), (x, y), fontsize=5, xytext=(2, 2), textcoords="offset points")
    ax.set_xlabel(f"PC{i + 1}")
    ax.set_ylabel(f"PC{j + 1}")


# Tokens the word-variance panel leaves out: padding and the decoder's start token are not words.
NOT_WORDS = ("<pad>", "<s>")


def word_variance(ax, table: pd.DataFrame, side: str, color, n_words: int = 15) -> None:
    """The total variance of one side's states (``encoder``, ``decoder``) at its
    ``n_words`` most frequent words, before and after removing μ_t (the word_variance
    table), and the count-weighted fraction that remains."""
    title = f"within-word variance of the {side} states"
    df = table
    if not df.empty:
        df = df[(df["side"] == side) & ~df["word"].astype(str).isin(NOT_WORDS)]
    if df.empty:
        placeholder(ax, "no word variance")
        ax.set_title(title)
        return
    df = df.sort_values("count", ascending=False, kind="stable").head(n_words)
    before = df["variance"].to_numpy(float)
    after = df["variance_without_mu"].to_numpy(float)
    x = np.arange(len(df))
    ax.bar(x - 0.2, before, 0.4, color="0.55", label=r"states $h$")
    ax.bar(x + 0.2, after, 0.4, color=color, label=r"$h - \mu_t$")
    ax.set_xticks(x, df["word"].astype(str), rotation=60, ha="right", fontsize=6)
    ax.tick_params(axis="x", length=1.5, pad=1)
    ax.set_ylabel("total variance (trace of cov.)")
    top = float(np.nanmax(np.concatenate([before, after]), initial=0))
    if top > 0:
        ax.set_ylim(0, 1.3 * top)
    counts = df["count"].to_numpy(float)
    total_before = float((counts * before).sum())
    kept = float((counts * after).sum()) / total_before if total_before > 0 else np.nan
    ax.set_title(
        f"{title}\nat the {len(df)} most frequent words, before and\nafter removing "
        + r"$\mu_t$"
        + (f": {kept:.0%} of it remains (count-weighted)" if np.isfinite(kept) else "")
    )
    ax.legend(frameon=False, fontsize=6, loc="upper right", ncol=2)


# ---------------------------------------------------------------------------------------
# One model's attention mechanism (figures 2 and 3): temporal trajectories, temporal-only
# vs mean attention, input components along the readout directions, nine-term shares.

WORD_COLORS = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#bcbd22",
    "#17becf",
    "#7f7f7f",
    "#393b79",
    "#637939",
    "#8c6d31",
    "#843c39",
]


def _valid_length(count: np.ndarray) -> int:
    """Number of leading positions with at least one valid sequence."""
    valid = np.flatnonzero(np.asarray(count) > 0)
    return int(valid[-1]) + 1 if len(valid) else 0


def temporal_trajectory(ax, model, side: str, dims=(0, 1)) -> None:
    """The temporal trajectory μ_t of one side in its PCA coordinates: the sampled states
    faint grey, μ_t as a line whose points are coloured by position, first/last labelled."""
    a = model.arrays
    basis, mean = a[f"{side}_pca_basis"], a[f"{side}_pca_mean"]
    pts = a[f"{side}_points"]
    i, j = dims
    ax.scatter(pts[:, i], pts[:, j], s=2, color="0.8", alpha=0.5, linewidths=0, label="states")
    count = a[f"{side}_step_count"]
    steps = np.flatnonzero(count > 0)
    mu = (a[f"{side}_mu"][steps] - mean) @ basis.T
    ax.plot(mu[:, i], mu[:, j], "-", color="k", lw=0.8, zorder=2)
    sc = ax.scatter(
        mu[:, i], mu[:, j], c=steps, cmap="cool", s=14, edgecolors="k", linewidths=0.3, zorder=3, label="μ_t"
    )
    centre = mu[:, [i, j]].mean(0) if len(steps) else np.zeros(2)
    for k in sorted({0, len(steps) - 1} if len(steps) else set()):
        x, y = mu[k, i], mu[k, j]
        right = x >= centre[0]
        ax.annotate(
            f"t={steps[k]}",
            (x, y),
            fontsize=6,
            xytext=(-4 if right else 4, 3),
            textcoords="offset points",
            ha="right" if right else "left",
        )
    cbar = ax.figure.colorbar(sc, ax=ax, fraction=0.05, pad=0.02)
    cbar.set_label("position t")
    ax.set_xlabel(f"PC{i + 1}")
    ax.set_ylabel(f"PC{j + 1}")


def _word_targets(model, words: np.ndarray) -> dict[int, int]:
    """Source word index -> the target word index whose readout it should align with: its
    translation from dictionary.csv, else the word its value reads out (``predicted``)."""
    src = [str(w) for w in model["src_vocab"]]
    tgt_index = {str(w): i for i, w in enumerate(model["tgt_vocab"])}
    table = model.table("dictionary")
    out = {}
    if len(table):
        table = table.set_index(table["word"].astype(str))
        for w in words:
            name = src[w]
            if name not in table.index:
                continue
            row = table.loc[name]
            for col in ("translation", "predicted"):
                value = row.get(col)
                if isinstance(value, str) and value in tgt_index:
                    out[int(w)] = tgt_index[value]
                    break
    return out


def readout_clusters(ax, model, n_words: int = 12) -> None:
    """Input components through the value matrix, V(χ^E + Δ^E) at sampled encoder
    positions, coloured by word, with the readout directions of their target words (F2).

    Both are projected onto the top-2 principal axes of the target words' readout columns
    W_c[:, j] (centred: a shift shared by every column moves every logit alike). Arrows are
    those centred columns, rescaled to the cloud."""
    a = model.arrays
    values, tokens = a["value_points"], a["value_tokens"]
    src = [str(w) for w in a["src_vocab"]]
    tgt = [str(w) for w in a["tgt_vocab"]]
    w_c = a["readout_context"]
    uniq, counts = np.unique(tokens, return_counts=True)
    words = np.sort(uniq[np.argsort(-counts, kind="stable")][:n_words])
    words = np.array(
        [w for w in words if src[w] not in ("<pad>", "<s>", "</s>")] + [w for w in words if src[w] == "</s>"], dtype=int
    )
    pairs = _word_targets(model, words)
    targets = sorted(set(pairs.values()))
    if len(targets) < 2:  # no dictionary: every ordinary target word
        targets = [j for j, w in enumerate(tgt) if w not in ("<pad>", "<s>")]
    cols = w_c[:, targets].T.astype(np.float64)  # (k, dv)
    centred = cols - cols.mean(0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    axes = vt[:2] if len(vt) >= 2 else np.eye(2, cols.shape[1])
    pts = values @ axes.T
    arrows = centred @ axes.T

    colour = {int(w): WORD_COLORS[k % len(WORD_COLORS)] for k, w in enumerate(words)}
    others = ~np.isin(tokens, words)
    if others.any():
        ax.scatter(pts[others, 0], pts[others, 1], s=3, color="0.8", linewidths=0, alpha=0.5)
    for w in words:
        sel = tokens == w
        arrow = f" → {tgt[pairs[int(w)]]}" if int(w) in pairs else ""
        ax.scatter(
            pts[sel, 0], pts[sel, 1], s=4, color=colour[int(w)], linewidths=0, alpha=0.5, label=f"{src[w]}{arrow}"
        )
    for w in words:  # each word's centroid: V(χ^E(w) + mean Δ)
        centroid = pts[tokens == w].mean(0)
        ax.scatter(*centroid, s=40, color=colour[int(w)], edgecolors="k", linewidths=0.8, zorder=4)
    radius = np.percentile(np.linalg.norm(pts, axis=1), 95) if len(pts) else 1.0
    scale = 1.1 * radius / max(float(np.linalg.norm(arrows, axis=1).max(initial=0)), 1e-12)
    target_colour = {}
    for w, j in pairs.items():
        target_colour.setdefault(j, colour[w])
    for j, (x, y) in zip(targets, arrows * scale):
        c = target_colour.get(j, "k")
        ax.annotate(
            "",
            xy=(x, y),
            xytext=(0, 0),
            arrowprops={"arrowstyle": "-|>", "color": c, "lw": 1.3, "mutation_scale": 8, "shrinkA": 0, "shrinkB": 0},
        )
        ax.annotate(
            tgt[j],
            (x, y),
            fontsize=7,
            fontweight="bold",
            color=c,
            xytext=(0, 0),
            textcoords="offset points",
            ha="left" if x >= 0 else "right",
            va="bottom" if y >= 0 else "top",
        )
    ax.axhline(0, color="0.85", lw=0.5, zorder=0)
    ax.axvline(0, color="0.85", lw=0.5, zorder=0)
    ax.set_xlabel("readout PC1 (of the target words' W_c columns)")
    ax.set_ylabel("readout PC2")
    ax.legend(
        frameon=False,
        fontsize=6,
        markerscale=3,
        loc="center left",
        bbox_to_anchor=(1.0, 0.5),
        title="input word → its target",
        title_fontsize=6,
    )


def _dictionary_summary(model) -> str:
    df = model.table("dictionary")
    if not len(df):
        return ""
    correct = pd.to_numeric(df["correct"], errors="coerce")
    cosine = pd.to_numeric(df["cosine"], errors="coerce")
    return (
        r"argmax $W_c V \chi^E(w)$ = its target for "
        + f"{pct(float(correct.mean()))} of words; mean "
        + r"$\cos(V\chi^E(w), W_c[:, \mathrm{target}])$"
        + f" = {float(cosine.mean()):.2f}"
    )


def one_task_mechanism(fig, model, missing: str = "model not in this config", seeds=None) -> None:
    """Figures 2 and 3: one model's mechanism on one task, lettered panels
    (a) encoder and decoder temporal trajectories μ_t (PCA),
    (b) temporal-only attention softmax(μ·μ) beside the mean attention Ā,
    (c) V(χ^E + Δ^E) clustered by word along the readout directions,
    (d) the nine score terms' shares at the attended position, per decoder step: the seed
        means of ``seeds`` (inputs.SeedShares) when given, else the drawn model's.
    Panels (a)-(c) draw one model (its seed is in the title). ``model`` None draws every
    panel as a placeholder saying ``missing``."""
    top_grid = fig.add_gridspec(1, 4, left=0.05, right=0.97, top=0.86, bottom=0.56, wspace=0.55)
    bottom_grid = fig.add_gridspec(1, 2, left=0.05, right=0.88, top=0.42, bottom=0.06, wspace=0.42)
    top = [fig.add_subplot(top_grid[0, k]) for k in range(4)]
    c_ax, d_ax = fig.add_subplot(bottom_grid[0, 0]), fig.add_subplot(bottom_grid[0, 1])
    titles = [
        r"encoder temporal trajectory $\mu^E_t$",
        r"decoder temporal trajectory $\mu^D_t$",
        "temporal-only attention\n" + r"softmax$_s(q(\mu^D_t)\cdot k(\mu^E_s))$",
        r"mean attention $\bar A$",
        r"input components through the value matrix, $V(\chi^E+\Delta^E)$, with readout directions",
        "shares of the nine score terms at the attended position",
    ]
    letters = ["a", "", "b", "", "c", "d"]
    axes = [*top, c_ax, d_ax]
    for ax, letter in zip(axes, letters):
        if letter:
            ax.text(
                -0.32 if ax in top else -0.12,
                1.0,
                letter,
                transform=ax.transAxes,
                fontsize=12,
                fontweight="bold",
                va="bottom",
                ha="left",
            )
    if model is None:
        for ax, title in zip(axes, titles):
            placeholder(ax, missing)
            ax.set_title(title)
        return
    a = model.arrays
    # Where the temporal component comes from, for this project's architectures.
    spec = ARCHITECTURES.get(model.arch)
    source = "" if spec is None else "from recurrence; " if spec.recurrent else "from positional encoding; "
    for ax, side, title in zip(top[:2], ("enc", "dec"), titles[:2]):
        temporal_trajectory(ax, model, side)
        ax.set_title(f"{title} in PCA space\n({source}grey: sampled states)")

    if "temporal_attention" not in a:
        for ax, title in zip(top[2:], titles[2:4]):
            placeholder(ax, "no attention in this architecture")
            ax.set_title(title)
    else:
        T, S = _valid_length(a["dec_step_count"]), _valid_length(a["enc_step_count"])
        temporal_agree = model.metric("temporal_argmax_agreement")
        mean_agree = model.metric("argmax_agreement")
        attention_matrix(
            top[2],
            a["temporal_attention"],
            dec_len=T,
            enc_len=S,
            title=f"{titles[2]}\nargmax agrees with $\\bar A$'s at {pct(temporal_agree)} of steps",
        )
        attention_matrix(
            top[3],
            a["mean_attention"],
            dec_len=T,
            enc_len=S,
            title=f"{titles[3]} over the test set\nargmax agrees with single examples' at {pct(mean_agree)} of steps",
        )

    if "value_points" not in a:
        placeholder(
            c_ax,
            "no value path (W_v, W_c) in the probe" if "mean_attention" in a else "no attention in this architecture",
        )
        c_ax.set_title(titles[4])
    else:
        readout_clusters(c_ax, model)
        summary = _dictionary_summary(model)
        c_ax.set_title(
            f"{titles[4]}\ndots: sampled encoder positions coloured by input word; "
            "large dots: word centroids;\n"
            + r"arrows: readout columns $W_c[:, j]$ of the target words (rescaled)"
            + (f"\n{summary}" if summary else "")
        )

    if "term_share_by_step" not in a:
        placeholder(d_ax, "no attention in this architecture")
        d_ax.set_title(titles[5])
    elif seeds and len(seeds.by_step_mean):  # the seed means, with the spread of μ·μ
        names = [n for n in TERM_COLORS if n in seeds.by_step_mean.columns]
        means, sds = seeds.by_step_mean[names], seeds.by_step_sd[names]
        term_shares_by_step(d_ax, means.to_numpy(), names, mu_mu_sd=sds["mu·mu"].to_numpy() if seeds.n > 1 else None)
        d_ax.set_xticks(range(len(means)), means.index)
        d_ax.set_title(
            f"{titles[5]}\n{seeds.label}; overall μ·μ share {seeds.mean.get('mu·mu', np.nan):.2f}"
            + (f" ± {seeds.sd.get('mu·mu', 0):.2f}" if seeds.n > 1 else "")
        )
    else:
        names = [str(n) for n in a["term_names"]]
        term_shares_by_step(d_ax, a["term_share_by_step"], names, step_count=a["dec_step_count"])
        mu_mu = model.overall_shares().get("mu·mu")
        overall = "" if mu_mu is None else f"\noverall μ·μ share {mu_mu:.2f}"
        d_ax.set_title(f"{titles[5]}{overall}")
    if "term_share_by_step" in a:  # which colour is which term, whichever shares were drawn
        d_ax.legend(
            frameon=False,
            fontsize=6,
            loc="center left",
            bbox_to_anchor=(1.0, 0.5),
            title="decoder·encoder",
            title_fontsize=6,
        )


def render_mechanism(figure, analysis: dict[str, str], tables: dict[str, str], title: str, pdf: str, png: str) -> None:
    """Figures 2 and 3: :func:`one_task_mechanism` of the one model ``figure`` selects,
    its share bars over every seed."""
    [(task, arch)] = figure.pairs()
    model = inputs.load_models(analysis, [(task, arch)]).get(inputs.key(task, arch))
    fig = style.plt.figure(figsize=(15, 8.2))
    one_task_mechanism(
        fig,
        model,
        missing=f"{style.pair_label(task, arch, ' / ')} not in this config",
        seeds=inputs.seed_shares(tables, task, arch),
    )
    drawn = f" — panels a–c: seed {model.seed}" if model is not None and model.seed is not None else ""
    fig.suptitle(title + drawn, fontsize=10)
    style.save(fig, pdf, png)
