"""``attend analyse PROBE.npz --out DIR``: every measurement of one probe (of any
encoder-decoder model: docs/probe-format.md), its tables, figures and a summary.

It checks the probe (:func:`attend.probe.load`), runs every measurement the probe's keys
allow (:func:`attend.analysis.measure.measure`) and writes into DIR

* one CSV per table (``attend.table_layout.TABLE_COLUMNS``, and of a probe with human word
  alignments ``GOLD_TABLE_COLUMNS``: :func:`attend.analysis.alignment.gold_alignment`; a
  table not made is written with its columns only) and ``analysis.npz``, the arrays the
  figures draw;
* the single-model figures of ``attend.plotting.one_model.FIGURES``, PNG and PDF;
* ``summary.md``: the model's headline numbers (with gold links, the alignment error rate of
  the model and of each head), one line per measurement skipped saying why, and the files
  written.

numpy, pandas and matplotlib only: it imports no TensorFlow, Keras or torch, nor the
workflow's config. Also run as ``python -m attend.probe_report``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

from . import probe as probe_format
from .analysis import alignment
from .analysis.attention import TERMS
from .analysis.measure import MeasurementError, measure
from .artifacts import DataError, output_folder, read_json, recorded_identity, regenerate, save_analysis, write_text
from .config_schema import written_default
from .gold_alignment import default_max_len
from .scoring import accuracy
from .table_layout import GOLD_TABLE_COLUMNS, TABLE_COLUMNS, whole_model

# The nine terms as a reader writes them: "mu·chi" -> "μ·χ".
TERM_LABELS = {t: t.replace("mu", "μ").replace("chi", "χ").replace("delta", "Δ") for t in TERMS}

# Sample sequences kept for the attention figure: the workflow's default (the schema's).
DEFAULT_SAMPLES = written_default("analysis.n_samples")
# The trained length the gold alignment's length bins split at, unless told: a translation
# model's at the default settings.
DEFAULT_MAX_LEN = default_max_len()
ALL_TABLES = {**TABLE_COLUMNS, **GOLD_TABLE_COLUMNS}


def read_dictionary(path: str | Path | None) -> dict[str, str]:
    """A JSON object of source word -> target word (or a dataset's vocab.json, whose
    ``dictionary`` it takes); {} without a path."""
    if path is None:
        return {}
    record = read_json(path, "dictionary")
    record = record.get("dictionary", record) if isinstance(record, dict) else record
    if not isinstance(record, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in record.items()):
        raise DataError(
            f"{path}: a dictionary is a JSON object of source word -> target word, "
            '{"cat": "chat", ...} (or a dataset\'s vocab.json)'
        )
    return record


def _pick(df: pd.DataFrame, **where) -> pd.DataFrame:
    for column, value in where.items():
        df = df[df[column] == value]
    return df


def summary(
    probe: dict, tables: dict[str, pd.DataFrame], skipped: dict[str, str], source: str, files: list[str], seconds: float
) -> str:
    """summary.md: what was probed, the headline numbers, what was skipped and why."""
    n, s = probe["enc_tokens"].shape
    t = probe["dec_inputs"].shape[1]
    kind = probe_format.form(probe)
    if kind is None:
        units = "no attention"
    elif kind == "single":
        units = "one attention head"
    elif kind == "heads":
        units = f"{int(probe['heads'])} heads"
    else:
        units = f"{int(probe['layers'])} layers × {int(probe['heads'])} heads of cross-attention"
    lines = [
        f"# attend analyse: {model_name(probe, source)}",
        "",
        f"Probe: `{source}` (format version {int(probe['format_version'])}); "
        f"{n} sequences, up to {s} source and {t} target positions; {units}.",
        "",
    ]
    if "identity" in probe:
        lines += [f"Identity: `{probe['identity']}`", ""]

    lines += ["## Headline numbers", ""]
    variance = tables["variance"]
    for side in ("encoder", "decoder"):
        rows = dict(zip(*_pick(variance, side=side)[["component", "fraction"]].T.values))
        lines.append(
            f"- {side} variance carried by μ (temporal) {rows['mu']:.3f}, χ (input) {rows['chi']:.3f}, "
            f"Δ (residual) {rows['delta']:.3f}"
        )
    shares = _pick(whole_model(tables["term_shares"]), step=-1)
    if len(shares):
        share = dict(zip(shares["term"], shares["share"]))
        top = sorted(share, key=share.get, reverse=True)[:3]
        lines.append(
            f"- score-term shares at the attended position: μ·μ {share['mu·mu']:.3f}; terms with a μ "
            f"{sum(v for k, v in share.items() if 'mu' in k):.3f}; largest: "
            + ", ".join(f"{TERM_LABELS[k]} {share[k]:.3f}" for k in top)
        )
    approx = whole_model(tables["approximation"])
    if len(approx):
        metric = dict(zip(approx["metric"], approx["value"]))
        lines.append(
            "- Ā stands in for the examples: their argmax agrees with Ā's at "
            f"{metric['argmax_agreement']:.1%} "
            f"of steps (total-variation distance {metric['tv_distance']:.3f}); the temporal-only attention's "
            f"argmax agrees with Ā's at {metric['temporal_argmax_agreement']:.1%}, with the examples' at "
            f"{metric['temporal_example_agreement']:.1%}"
        )
        if "alignment_agreement" in metric:
            lines.append(
                f"- the examples attend to the aligned source position at {metric['alignment_agreement']:.1%} of steps"
            )
    if "targets" in probe:
        scores = accuracy(probe["predictions"], probe["targets"])
        lines.append(
            f"- teacher-forced accuracy: tokens {scores['token_acc']:.1%}, whole sequences {scores['seq_acc']:.1%}"
        )
    dictionary = tables["dictionary"]
    if len(dictionary):
        correct = pd.to_numeric(dictionary["correct"], errors="coerce")
        if correct.notna().any():
            lines.append(
                f"- dictionary accuracy: argmax W_c V χ^E(w) is w's translation for {correct.mean():.1%} of "
                f"{int(correct.notna().sum())} words"
            )
        lines.append(
            f"- mean cosine of V χ^E(w) with its target word's readout column: "
            f"{pd.to_numeric(dictionary['cosine']).mean():.3f}"
        )
    lines.append("")
    lines += gold_summary(tables[alignment.TABLE], subwords="enc_word" in probe)
    lines += ["## Skipped", ""]
    lines += [f"- {what}: {why}" for what, why in skipped.items()] or ["- nothing: the probe allows every measurement"]
    lines += ["", "## Files", ""] + [f"- `{f}`" for f in files]
    lines += ["", f"Analysed in {seconds:.1f} s (attend analyse).", ""]
    return "\n".join(lines)


# summary.md's line on how positions become words, with word maps (subwords) and without.
WORD_CONVENTION = {
    True: "Subwords: the decomposition keys χ by the model's own tokens (subword pieces); the alignment is read "
    "at the word level through the probe's word maps (`enc_word`, `dec_word`): each target subword is linked to "
    "the source subword of its largest weight, and a word pair is linked when any of their subword pairs is.",
    False: "Words: one position is one word (the probe has no word maps), so χ and the alignment share the tokens.",
}


def gold_summary(table: pd.DataFrame, subwords: bool = False) -> list[str]:
    """summary.md's section on the human word alignments: how positions become words
    (:data:`WORD_CONVENTION`; ``subwords``: the probe has word maps), the alignment error
    rate of every reading for the model as a whole, then of each head's attention (a model
    of several)."""
    if table.empty:
        return []
    read = _pick(table, convention="predicts", length_bin="all")
    whole = _pick(read, layer=alignment.WHOLE_MODEL, head=alignment.WHOLE_MODEL).set_index("reading")
    inside = _pick(table, convention="predicts", length_bin="inside", layer=-1, head=-1, reading="attention")
    reads = _pick(table, convention="reads", length_bin="all", layer=-1, head=-1, reading="attention")
    aer = whole["aer"]

    def rate(side):
        value = whole[f"{side}_oov_rate"].iloc[0]
        return f"{value:.1%}" if pd.notna(value) else "n/a (its vocabulary has no <unk>)"

    lines = [
        "## Attention against human word alignments",
        "",
        f"{int(whole['sentences'].iloc[0])} sentence pairs with {int(whole['sure'].iloc[0])} sure and "
        f"{int(whole['possible'].iloc[0])} possible links ({int(inside['sentences'].iloc[0])} inside the trained "
        f"length); out-of-vocabulary words: source {rate('source')}, target {rate('target')}. Alignment error rate (AER, lower is closer to the human "
        "links), target word j read at the step that predicts it, all pairs (docs/science.md §4.9):",
        "",
        f"- the model as a whole: attention {aer['attention']:.3f} (read at the step after: "
        f"{reads['aer'].iloc[0]:.3f}), temporal-only {aer['temporal_only']:.3f}, without μ·μ "
        f"{aer['without_mu_mu']:.3f}, Ā {aer['mean_attention']:.3f}; the length-scaled diagonal {aer['diagonal']:.3f}",
        "",
        WORD_CONVENTION[subwords],
    ]
    heads = read[(read["layer"] >= 0) & (read["head"] >= 0)]
    if len(heads):
        lines += [
            "",
            "| layer | head | μ·μ share | AER attention | temporal-only | without μ·μ |",
            "|---|---|---|---|---|---|",
        ]
        for (layer, head), rows in heads.groupby(["layer", "head"]):
            unit = rows.set_index("reading")
            lines.append(
                f"| {layer} | {head} | {unit['mu_mu_share'].iloc[0]:.3f} | {unit.loc['attention', 'aer']:.3f} | "
                f"{unit.loc['temporal_only', 'aer']:.3f} | {unit.loc['without_mu_mu', 'aer']:.3f} |"
            )
    return [*lines, ""]


def model_name(probe: dict, path: str | Path) -> str:
    """How the figures name the model: task/arch, seed n for a model of this project (its
    identity says), else its ``arch``, else the probe's file name."""
    try:
        identity = recorded_identity(probe)
    except ValueError:  # an outside probe's identity need not be JSON
        identity = {}
    identity = identity if isinstance(identity, dict) else {}
    arch = str(probe.get("arch", "")) or identity.get("model", "")
    if "task" in identity:
        return f"{identity['task']}/{arch}" + (f", seed {identity['seed']}" if "seed" in identity else "")
    return arch or Path(path).stem


def measure_gold(probe: dict, max_len: int, tables: dict, arrays: dict, skipped: dict) -> None:
    """The alignment error rates of a probe with human word alignments (its table and the
    arrays of one sentence, added to ``tables`` and ``arrays``), or why not (in ``skipped``)."""
    tables[alignment.TABLE] = pd.DataFrame(columns=GOLD_TABLE_COLUMNS[alignment.TABLE])
    if "gold_links" not in probe:
        skipped[alignment.TABLE] = (
            "no human word alignments in the probe (format 2's gold_links and gold_sure: a probe of the "
            "gold pairs, docs/science.md §4.9)"
        )
    elif "attention" not in probe:
        skipped[alignment.TABLE] = "the model has no attention"
    else:
        tables[alignment.TABLE], gold_arrays = alignment.gold_alignment(probe, max_len)
        arrays.update(gold_arrays)


def analyse(
    probe_path: str | Path,
    out: str | Path,
    dictionary: dict | None = None,
    n_samples: int | None = None,
    figures: bool = True,
    max_len: int | None = None,
) -> dict:
    """Analyse one probe into ``out``; return (tables, arrays, skipped, files) as a dict.
    ``max_len``: the model's trained maximum of words per side, where the gold alignment's
    length bins split (default: a translation model's at the default settings)."""
    from .plotting import one_model  # matplotlib, only when drawing

    start = time.perf_counter()
    # The folder first: a folder that cannot take the outputs is refused before the work.
    names = [f"{name}.csv" for name in ALL_TABLES] + ["analysis.npz", "summary.md"]
    names += [f"{figure.name}.{ext}" for figure in one_model.FIGURES for ext in ("png", "pdf")] if figures else []
    out = output_folder(out, names)
    probe = probe_format.load(probe_path)
    tables, arrays, skipped = measure(probe, dictionary or {}, DEFAULT_SAMPLES if n_samples is None else n_samples)
    measure_gold(probe, DEFAULT_MAX_LEN if max_len is None else max_len, tables, arrays, skipped)
    save_analysis(tables, arrays, out / "analysis.npz", {name: out / f"{name}.csv" for name in ALL_TABLES})
    files = [f"{name}.csv" for name in ALL_TABLES] + ["analysis.npz"]
    if figures:
        files += [p.name for p in one_model.render(tables, arrays, out, model_name(probe, probe_path))]
    files.append("summary.md")
    text = summary(probe, tables, skipped, str(probe_path), files, time.perf_counter() - start)
    write_text(out / "summary.md", text)
    return {"tables": tables, "arrays": arrays, "skipped": skipped, "files": files}


def outside_the_workflow(err: Exception, probe_path: str) -> str:
    """An error in one line, with advice that holds outside the workflow: the file layer's
    readers advise forcing the Snakemake job that writes a file, which a probe written by
    hand does not have."""
    if isinstance(err, OSError) and not isinstance(err, DataError):
        return f"{err.filename or ''}: {err.strerror or err}".lstrip(": ")
    return str(err).replace(regenerate(Path(probe_path)), "write the probe again (docs/probe-format.md)")


def parser(prog: str = "attend analyse") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog,
        description="Measure one probe of an encoder-decoder model (the nine-term "
        "decomposition of its attention and the rest of docs/science.md §4): tables, figures and a "
        "summary. The probe format: docs/probe-format.md.",
    )
    p.add_argument("probe", help="the probe, an .npz of docs/probe-format.md")
    p.add_argument("--out", required=True, help="folder to write the tables, figures and summary.md into")
    p.add_argument(
        "--dictionary",
        help="JSON object of source word -> target word, for the dictionary accuracy "
        "(a dataset's vocab.json works too)",
    )
    p.add_argument(
        "--samples",
        type=int,
        default=DEFAULT_SAMPLES,
        help=f"sample sequences drawn beside the mean attention (default {DEFAULT_SAMPLES})",
    )
    p.add_argument(
        "--max-len",
        type=int,
        default=DEFAULT_MAX_LEN,
        help="the model's trained maximum of words per side, where the alignment error rates of a probe with human "
        f"word alignments are split into inside and beyond (default {DEFAULT_MAX_LEN}, a translation model's)",
    )
    p.add_argument("--no-figures", action="store_true", help="tables and summary only")
    return p


def main(argv: list[str] | None = None, prog: str = "attend analyse") -> int:
    args = parser(prog).parse_args(argv)
    if args.samples < 1:
        print(f"{prog}: error: --samples must be at least 1, got {args.samples}", file=sys.stderr)
        return 2
    if args.max_len < 1:
        print(f"{prog}: error: --max-len must be at least 1, got {args.max_len}", file=sys.stderr)
        return 2
    try:
        result = analyse(
            args.probe, args.out, read_dictionary(args.dictionary), args.samples, not args.no_figures, args.max_len
        )
    except (DataError, MeasurementError, OSError) as err:
        print(f"{prog}: error: {outside_the_workflow(err, args.probe)}", file=sys.stderr)
        return 1
    for what, why in result["skipped"].items():
        print(f"skipped {what}: {why}")
    print(f"wrote {len(result['files'])} files to {args.out} (summary: {Path(args.out) / 'summary.md'})")
    return 0


if __name__ == "__main__":
    sys.exit(main(prog="python -m attend.probe_report"))
