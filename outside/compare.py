"""Models side by side, from their ``attend analyse`` folders: how much of each head's score
comes from the temporal components, how well the temporal terms alone stand in for its
attention, and how close its attention is to human word alignments.

    python outside/compare.py \\
        --model marian results/outside/marian-test results/outside/marian-gold \\
        --model tfm results/analysis/translation/tfm/seed0 results/analysis/translation/tfm/seed0/gold \\
        --out results/outside/comparison

Each ``--model NAME FOLDER [GOLD_FOLDER]`` names a model and its folders: FOLDER holds the
tables of its probe on the test split (``term_shares.csv``, ``approximation.csv``: what
``attend analyse`` writes, and what the workflow writes into results/analysis/{task}/{arch}/
seed{seed}/); GOLD_FOLDER (optional) the table of its probe on the human-aligned gold pairs
(``gold_alignment.csv``: ``attend analyse`` of a ``probe-hf --gold`` probe, or the
workflow's .../gold/). Without GOLD_FOLDER the AER columns are empty. The tables are read,
never recomputed, so the numbers are those of the folders.

The measures, for the model as a whole (layer −1, head −1: the uniform mean over its
units), each layer (l, −1) and each head (l, h), as the tables give them
(docs/science.md §4):

* ``mu_mu_share``: the μ·μ term's share of the score at the attended position, over every
  decoder step (term_shares, step −1); ``mu_terms_share``: the five terms with a μ together;
* ``argmax_agreement``: how often an example's argmax is Ā's; ``temporal_argmax_agreement``:
  how often the temporal-only attention softmax(μ·μ)'s argmax is Ā's (F1's measure);
  ``temporal_example_agreement``: how often it is the example's (approximation);
* ``aer_<reading>``: the alignment error rate of the links read from the attention, the
  temporal-only attention, the attention without μ·μ, Ā and the length-scaled diagonal,
  target word j read at the step that predicts it, every gold pair (gold_alignment;
  convention ``predicts``, length bin ``all``).

It writes into ``--out``: ``comparison.csv`` (model, layer, head, measure, value: one row
per number), ``comparison.md`` (the models as a whole side by side, then every layer and
head) and, with gold folders, ``comparison.png`` (each head's AER against its μ·μ share,
one colour per model; the model as a whole a larger mark). pandas and matplotlib, run in
the project's environment (``.venv/bin/python outside/compare.py``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from attend.analysis.alignment import READINGS
from attend.artifacts import DataError, write_text
from attend.table_layout import GOLD_TABLE_COLUMNS, TABLE_COLUMNS, WHOLE_MODEL

PROG = "outside/compare.py"
SHARES = ("mu_mu_share", "mu_terms_share")
AGREEMENT = ("argmax_agreement", "temporal_argmax_agreement", "temporal_example_agreement")
AER = tuple(f"aer_{reading}" for reading in READINGS)
MEASURES = SHARES + AGREEMENT + AER  # the columns of comparison.md, in order
LABELS = {  # as comparison.md heads them
    "mu_mu_share": "μ·μ share",
    "mu_terms_share": "terms with μ",
    "argmax_agreement": "Ā agrees with the examples",
    "temporal_argmax_agreement": "temporal-only agrees with Ā",
    "temporal_example_agreement": "temporal-only agrees with the examples",
    "aer_attention": "AER attention",
    "aer_temporal_only": "AER temporal-only",
    "aer_without_mu_mu": "AER without μ·μ",
    "aer_mean_attention": "AER Ā",
    "aer_diagonal": "AER diagonal",
}
LABELS |= {m: m for m in MEASURES if m not in LABELS}  # a reading added later: its own name
UNIT_MEASURES = [m for m in MEASURES if m != "aer_diagonal"]  # the diagonal is the model's, not a unit's
CONVENTION, LENGTH_BIN = "predicts", "all"  # the AER read (docs/science.md §4.9)


def read_table(folder: Path, name: str, columns: list[str]) -> pd.DataFrame:
    """One table of an analysis folder, its columns checked; a one-line error otherwise."""
    path = folder / f"{name}.csv"
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder (an `attend analyse` output or a workflow analysis folder)")
    if not path.is_file():
        raise DataError(f"{path}: missing; is {folder} an `attend analyse` output folder?")
    table = pd.read_csv(path)
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DataError(f"{path}: lacks the columns {missing}: written by another version of attend? analyse again")
    if table.empty:
        hint = "a probe made on the gold pairs (probe-hf --gold)" if name == "gold_alignment" else "its probe"
        raise DataError(f"{path}: has no rows; analyse {hint} into {folder}")
    return table


def model_measures(name: str, folder: Path, gold: Path | None) -> pd.DataFrame:
    """The rows (model, layer, head, measure, value) of one model's folders."""
    shares = read_table(folder, "term_shares", TABLE_COLUMNS["term_shares"])
    shares = shares[shares["step"] == -1]
    mu_mu = shares[shares["term"] == "mu·mu"].set_index(["layer", "head"])["share"]
    with_mu = shares[shares["term"].str.contains("mu")].groupby(["layer", "head"])["share"].sum()
    approx = read_table(folder, "approximation", TABLE_COLUMNS["approximation"])
    approx = approx[approx["metric"].isin(AGREEMENT)]
    parts = [
        mu_mu.rename("mu_mu_share").reset_index().melt(["layer", "head"], var_name="measure"),
        with_mu.rename("mu_terms_share").reset_index().melt(["layer", "head"], var_name="measure"),
        approx.rename(columns={"metric": "measure"}),
    ]
    if gold is not None:
        table = read_table(gold, "gold_alignment", GOLD_TABLE_COLUMNS["gold_alignment"])
        table = table[(table["convention"] == CONVENTION) & (table["length_bin"] == LENGTH_BIN)]
        aer = table[["layer", "head", "reading", "aer"]].rename(columns={"aer": "value"})
        parts.append(aer.assign(measure="aer_" + aer.pop("reading")))
    rows = pd.concat(parts, ignore_index=True)[["layer", "head", "measure", "value"]]
    return rows.assign(model=name)[["model", "layer", "head", "measure", "value"]]


def compare(models: list[tuple[str, Path, Path | None]]) -> pd.DataFrame:
    """Every model's measures, one row per number: model, layer, head, measure, value."""
    names = [name for name, _, _ in models]
    if len(set(names)) < len(names):
        raise DataError(f"two models are named alike ({', '.join(names)}): give each --model its own NAME")
    frames = [model_measures(*model) for model in models]
    table = pd.concat(frames, ignore_index=True)
    order = {m: k for k, m in enumerate(MEASURES)}
    table["order"] = table["measure"].map(order)
    table = table.sort_values(
        ["order", "model", "layer", "head"], key=lambda c: c.map(names.index) if c.name == "model" else c
    )
    return table.drop(columns="order").reset_index(drop=True)


def _cell(value) -> str:
    return "" if pd.isna(value) else f"{value:.3f}"


def markdown(table: pd.DataFrame, models: list[str]) -> str:
    """comparison.md: the models as a whole side by side, then each one's layers and heads."""
    measures = [m for m in MEASURES if m in set(table["measure"])]
    whole = table[(table["layer"] == WHOLE_MODEL) & (table["head"] == WHOLE_MODEL)]
    wide = whole.pivot(index="measure", columns="model", values="value")
    lines = [
        "# Models side by side",
        "",
        f"From `attend analyse` folders, by `{PROG}`; AER read at the step that predicts each target word, every "
        "gold pair (docs/science.md §4.9). A model as a whole is the uniform mean over its cross-attention units.",
        "",
        "## The models as a whole",
        "",
        "| measure | " + " | ".join(models) + " |",
        "|---|" + "---|" * len(models),
    ]
    for measure in measures:
        values = [_cell(wide.loc[measure, m]) if measure in wide.index and m in wide.columns else "" for m in models]
        lines.append(f"| {LABELS[measure]} | " + " | ".join(values) + " |")
    units = table[(table["layer"] != WHOLE_MODEL) | (table["head"] != WHOLE_MODEL)]
    measures = [m for m in measures if m in UNIT_MEASURES]
    if not units.empty:
        by_unit = units.pivot_table(index=["model", "layer", "head"], columns="measure", values="value", sort=False)
        lines += [
            "",
            "## Layers and heads",
            "",
            "Head −1 is the layer's mean over its heads.",
            "",
            "| model | layer | head | " + " | ".join(LABELS[m] for m in measures) + " |",
            "|---|---|---|" + "---|" * len(measures),
        ]
        for model in models:
            rows = by_unit.loc[model] if model in by_unit.index.get_level_values(0) else None
            if rows is None:
                continue
            for (layer, head), row in rows.sort_index().iterrows():
                cells = [_cell(row.get(m)) for m in measures]
                lines.append(f"| {model} | {layer} | {head} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def figure(table: pd.DataFrame, models: list[str], path: Path) -> bool:
    """Each head's AER of its attention (on the gold pairs) against its μ·μ share (on the
    test split), per model; False (nothing drawn) without AER."""
    wide = table.pivot_table(index=["model", "layer", "head"], columns="measure", values="value").reset_index()
    if "aer_attention" not in wide.columns:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.8, 3.6))
    for k, model in enumerate(models):
        rows = wide[(wide["model"] == model) & wide["aer_attention"].notna()]
        heads = rows[rows["head"] >= 0]
        whole = rows[(rows["layer"] == WHOLE_MODEL) & (rows["head"] == WHOLE_MODEL)]
        colour = f"C{k}"
        ax.scatter(heads["mu_mu_share"], heads["aer_attention"], s=18, color=colour, label=f"{model}: heads")
        ax.scatter(whole["mu_mu_share"], whole["aer_attention"], s=90, marker="D", color=colour, edgecolor="black")
        if "aer_diagonal" in whole and len(whole):
            ax.axhline(float(whole["aer_diagonal"].iloc[0]), color=colour, linestyle=":", linewidth=1)
    ax.set_xlabel("μ·μ share at the attended position")
    ax.set_ylabel("AER of the attention (lower: closer)")
    ax.set_title("heads (dots), whole model (diamond), diagonal (dotted)", fontsize=8)
    ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Set models' `attend analyse` folders side by side: μ·μ share, temporal-only agreement and "
        "AER against human word alignments, for each model as a whole, each layer and each head.",
    )
    p.add_argument(
        "--model",
        nargs="+",
        action="append",
        required=True,
        metavar="NAME FOLDER [GOLD_FOLDER]",
        help="a model's name, the folder of its test-split analysis and (optional) that of its gold analysis; "
        "give --model once per model",
    )
    p.add_argument("--out", required=True, help="the folder to write comparison.csv, .md and .png into")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    models = []
    for given in args.model:
        if len(given) not in (2, 3):
            print(f"{PROG}: error: --model takes NAME FOLDER [GOLD_FOLDER], got {' '.join(given)}", file=sys.stderr)
            return 2
        name, folder, *gold = given
        models.append((name, Path(folder), Path(gold[0]) if gold else None))
    try:
        table = compare(models)
    except DataError as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    names = [name for name, _, _ in models]
    write_text(out / "comparison.csv", table.to_csv(index=False))
    write_text(out / "comparison.md", markdown(table, names))
    drawn = figure(table, names, out / "comparison.png")
    print(f"wrote {out}/comparison.csv, comparison.md{', comparison.png' if drawn else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
