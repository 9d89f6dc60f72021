"""The paper's findings F1–F5 (docs/science.md §1), and this project's own claim F6 (§6),
as checks on the aggregated tables.

Each claim is one row: the measured value, the criterion it is held to, and pass/fail.
The criteria are this project's operationalisation of the paper's words (a documented
choice); where the runs a claim needs are absent from the config, the row says so and
counts as not checked rather than failed.

Claims are asked in **scopes** (:data:`SCOPES`, the ``scope`` column of claims.csv): the
paper's (``paper``: AED and AO, VED the baseline), exactly as the paper states them, and
one scope per other attention architecture the config trains (``tfm``, the Transformer:
docs/transformer.md), which asks the same five questions of that architecture alone:

* F1: its temporal-only agreement and its largest term on one_to_one;
* F2, F3: its value path (for the Transformer, the direct path of every layer's
  cross-attention into the final LayerNorm and the readout, ``attend.models``), on the
  synthetic tasks with a dictionary;
* F4: the rank correlation over its own task points, and sort below the temporal tasks;
* F5: whether it reaches the picture of AED and AO (μ·μ leads on one_to_one), and whether
  VED, the baseline without attention, is less accurate than it;
* F6: whether its translation model's attention aligns with the human word alignments
  better than position alone, and not through its temporal terms.

A scope other than the paper's has rows only when the tables hold its architecture.

A model of several heads or layers is read as a whole: every share and approximation
metric a claim uses is the uniform mean over its (layer, head) units of that unit's own
value (each unit at its own attended position, against its own mean attention; the
tables' layer -1, head -1 rows), so F1 asks that the units' mean temporal-only agreement
reach 0.9 and that μ·μ lead the units' mean shares, F4 ranks the units' mean shares, and
F5 compares those means (F1's detail gives each layer's own values). F2 and F3 read the
value path as one matrix: the heads' values concatenated and mapped by W_o, and for the
Transformer the sum of its layers' direct paths; accuracy is the model's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import tasks
from .analysis.alignment import scores as alignment_scores
from .architectures import ARCHITECTURES
from .table_layout import WHOLE_MODEL, whole_model

# F1 and F5 are stated on one-to-one attention; the other claims read the task families
# of the registry (attend.tasks).
REFERENCE_TASK = "one_to_one"


@dataclass(frozen=True)
class Scope:
    """The architectures whose picture a set of claim rows reads: ``archs``, the attention
    architectures (F5 compares the first one's accuracy with ``baseline``'s)."""

    name: str
    archs: tuple[str, ...]
    baseline: str = "ved"

    @property
    def labels(self) -> list[str]:
        return [ARCHITECTURES[a].label for a in self.archs]


# The paper's attention architectures, AED and AO (its claims, figure 6, the variants).
PAPER_ATTENTION_ARCHS = tuple(n for n, a in ARCHITECTURES.items() if a.paper and a.attention)
PAPER = Scope("paper", PAPER_ATTENTION_ARCHS)
SCOPES = {PAPER.name: PAPER, **{n: Scope(n, (n,)) for n, a in ARCHITECTURES.items() if a.attention and not a.paper}}


def tasks_of_family(name: str) -> tuple[str, ...]:
    """The registered tasks of one family ("temporal", "input", "mixed")."""
    return tuple(t for t, spec in tasks.load_task_modules().items() if spec.family == name)


def dictionary_tasks() -> tuple[str, ...]:
    """The synthetic tasks with a word-for-word dictionary, on which F2 and F3 are checked."""
    return tuple(t for t, spec in tasks.load_task_modules().items() if spec.synthetic and spec.dictionary)


def _metric(approx: pd.DataFrame, metric: str) -> pd.DataFrame:
    approx = whole_model(approx)
    return approx[approx["metric"] == metric]


def _overall_shares(shares: pd.DataFrame) -> pd.DataFrame:
    """Overall (all decoder steps) share of each term, per task × arch × seed."""
    shares = whole_model(shares)
    return shares[shares["step"] == -1]


def _by_layer(approx: pd.DataFrame, shares: pd.DataFrame, archs) -> str:
    """F1's view of each layer of a model of several layers (rows layer l, head -1): its
    temporal-only agreement and largest term on one_to_one, or "" without such rows."""
    if "layer" not in approx.columns or "layer" not in shares.columns:
        return ""

    def pick(df):
        return df[
            (df["task"] == REFERENCE_TASK) & df["arch"].isin(archs) & (df["layer"] >= 0) & (df["head"] == WHOLE_MODEL)
        ]

    agree = pick(approx)
    agree = agree[agree["metric"] == "temporal_argmax_agreement"]
    top = pick(shares)
    top = top[top["step"] == -1]
    if agree.empty or top.empty:
        return ""
    largest = top.loc[top.groupby(["arch", "seed", "layer"])["share"].idxmax()].set_index(["arch", "seed", "layer"])
    parts = []
    for (arch, seed), rows in agree.groupby(["arch", "seed"]):
        layers = [
            f"L{int(r.layer)} {r.value:.2f} {largest.loc[(arch, seed, r.layer), 'term']}"
            for r in rows.sort_values("layer").itertuples()
            if (arch, seed, r.layer) in largest.index
        ]
        parts.append(f"{arch}/seed{seed}: " + ", ".join(layers))
    return "; by layer (temporal-only agreement, largest term): " + "; ".join(parts)


def spearman(x, y) -> float:
    """Spearman rank correlation (average ranks for ties)."""
    rx, ry = pd.Series(x).rank().to_numpy(), pd.Series(y).rank().to_numpy()
    if len(rx) < 3 or rx.std() == 0 or ry.std() == 0:
        return float("nan")
    return float(np.corrcoef(rx, ry)[0, 1])


def _row(claim, statement, value, criterion, passed, detail=""):
    status = "not checked" if passed is None else ("pass" if passed else "fail")
    return {
        "claim": claim,
        "statement": statement,
        "value": value,
        "criterion": criterion,
        "status": status,
        "detail": detail,
    }


def f1(approx: pd.DataFrame, shares: pd.DataFrame, scope: Scope = PAPER) -> dict:
    """Temporal components align through Q/K: on one_to_one the temporal-only attention
    has the argmax of the mean attention, and mu·mu is the largest term."""
    statement = "Temporal components of encoder and decoder align through the key/query matrices (diagonal attention on one_to_one)"
    agree = _metric(approx, "temporal_argmax_agreement")
    agree = agree[(agree["task"] == REFERENCE_TASK) & agree["arch"].isin(scope.archs)]
    top = _overall_shares(shares)
    top = top[(top["task"] == REFERENCE_TASK) & top["arch"].isin(scope.archs)]
    if agree.empty or top.empty:
        return _row(
            "F1",
            statement,
            np.nan,
            "temporal-only argmax agreement >= 0.9 and mu·mu the largest share",
            None,
            f"needs one_to_one with {' or '.join(scope.archs)}",
        )
    largest = top.loc[top.groupby(["arch", "seed"])["share"].idxmax()]
    mu_mu_first = bool((largest["term"] == "mu·mu").all())
    value = float(agree["value"].min())
    return _row(
        "F1",
        statement,
        value,
        f"min over {'/'.join(scope.labels)} of temporal-only argmax agreement >= 0.9, and mu·mu the largest share",
        value >= 0.9 and mu_mu_first,
        "largest terms: "
        + ", ".join(f"{r.arch}/seed{r.seed}: {r.term} {r.share:.2f}" for r in largest.itertuples())
        + _by_layer(approx, shares, scope.archs),
    )


def f2(dictionary: pd.DataFrame, scope: Scope = PAPER) -> dict:
    """Input components, through the value matrix, point along their translation's readout."""
    statement = "Input components, multiplied by the value matrix, cluster along the readout vectors"
    d = dictionary[dictionary["task"].isin(dictionary_tasks()) & dictionary["arch"].isin(scope.archs)]
    if d.empty:
        return _row(
            "F2",
            statement,
            np.nan,
            "mean cosine >= 0.3",
            None,
            f"needs synthetic tasks with {' or '.join(scope.archs)}",
        )
    value = float(d["cosine"].mean())
    per = d.groupby(["task", "arch"])["cosine"].mean()
    return _row(
        "F2",
        statement,
        value,
        "mean cosine(V chi_E(w), readout of w's translation) >= 0.3",
        value >= 0.3,
        ", ".join(f"{t}/{a} {v:.2f}" for (t, a), v in per.items()),
    )


def f3(dictionary: pd.DataFrame, scope: Scope = PAPER) -> dict:
    """Reading out each encoder input component through V and the readout recovers the
    task's dictionary."""
    statement = (
        "The readout of the context vector applied to the encoder input components yields the translation dictionary"
    )
    d = dictionary[dictionary["task"].isin(dictionary_tasks()) & dictionary["arch"].isin(scope.archs)]
    if d.empty:
        return _row(
            "F3",
            statement,
            np.nan,
            "dictionary accuracy >= 0.9",
            None,
            f"needs synthetic tasks with {' or '.join(scope.archs)}",
        )
    per = d.groupby(["task", "arch"])["correct"].mean()
    value = float(per.min())
    return _row(
        "F3",
        statement,
        value,
        f"dictionary accuracy >= 0.9 for every synthetic task × ({', '.join(scope.labels)})",
        value >= 0.9,
        ", ".join(f"{t}/{a} {v:.2f}" for (t, a), v in per.items()),
    )


def f4_points(
    approx: pd.DataFrame,
    shares: pd.DataFrame,
    metric: str = "argmax_agreement",
    archs: tuple[str, ...] = PAPER_ATTENTION_ARCHS,
) -> pd.DataFrame:
    """F4's points, one per task × attention architecture (of ``archs``: the paper's, AED
    and AO, unless told) × seed: an approximation ``metric`` of the mean attention
    (``value``) and the overall μ·μ share (``share``). Figure 6 draws exactly these."""
    columns = ["task", "arch", "seed", "value", "share"]
    if approx.empty or shares.empty:
        return pd.DataFrame(columns=columns)
    a = _metric(approx, metric)[["task", "arch", "seed", "value"]]
    m = _overall_shares(shares)
    m = m[m["term"] == "mu·mu"][["task", "arch", "seed", "share"]]
    points = a.merge(m, on=["task", "arch", "seed"])
    return points[points["arch"].isin(archs)].dropna(subset=["value", "share"])[columns]


def f4(approx: pd.DataFrame, shares: pd.DataFrame, scope: Scope = PAPER) -> dict:
    """Across tasks, the better the average attention approximates single examples, the
    larger the temporal share; content-based tasks (sort) lean on input terms."""
    statement = "The closer the average attention matrix is to individual ones, the larger the temporal share; sort is input-driven"
    points = f4_points(approx, shares, archs=scope.archs)
    if points["task"].nunique() < 3:
        return _row(
            "F4",
            statement,
            np.nan,
            "Spearman rho >= 0.5 over >= 3 tasks",
            None,
            f"needs at least 3 tasks with {' or '.join(scope.archs)}",
        )
    rho = spearman(points["value"], points["share"])
    by_task = points.groupby("task")["share"].mean()
    content = [t for t in tasks_of_family("input") if t in by_task]
    temporal = [t for t in tasks_of_family("temporal") if t in by_task]
    sort_below = None
    if content and temporal:
        sort_below = bool(max(by_task[t] for t in content) < min(by_task[t] for t in temporal))
    passed = rho >= 0.5 and sort_below is not False
    return _row(
        "F4",
        statement,
        rho,
        "Spearman rho(argmax agreement with mean attention, mu·mu share) >= 0.5, and the mu·mu share of "
        "every input-family task (sort) below every temporal-family task's (one_to_one, reverse)",
        passed,
        "mean mu·mu share: " + ", ".join(f"{t} {v:.2f}" for t, v in by_task.items()),
    )


def f5(approx: pd.DataFrame, shares: pd.DataFrame, accuracy: pd.DataFrame, scope: Scope = PAPER) -> dict:
    """The paper's: AED and AO reach the same picture on one_to_one (mu·mu dominant in
    both), and VED, the baseline without attention, is less accurate than AED. Another
    scope's: its architecture reaches that picture, and VED is less accurate than it."""
    labels, first = scope.labels, scope.archs[0]
    if len(scope.archs) > 1:
        statement = f"{' and '.join(labels)} reach the same picture by different routes; VED is the weaker baseline"
        who = "both " + " and ".join(labels)
    else:
        statement = f"The {labels[0]} reaches the same picture as AED and AO (mu·mu leads on one_to_one); VED is the weaker baseline"
        who = f"the {labels[0]}"
    criterion = (
        f"mu·mu largest for {who} on one_to_one, and mean test sequence accuracy "
        f"{labels[0]} - {ARCHITECTURES[scope.baseline].label} > 0"
    )
    top = _overall_shares(shares)
    top = top[(top["task"] == REFERENCE_TASK) & top["arch"].isin(scope.archs)]
    archs = set(top["arch"])
    acc = accuracy.groupby("arch")["test_seq_acc"].mean()
    if not set(scope.archs) <= archs or not {first, scope.baseline} <= set(acc.index):
        return _row(
            "F5",
            statement,
            np.nan,
            f"mu·mu largest for {' and '.join(labels)}; {ARCHITECTURES[scope.baseline].label} accuracy < "
            f"{labels[0]} accuracy",
            None,
            f"needs one_to_one with {' and '.join(scope.archs)}, and {scope.baseline}",
        )
    largest = top.loc[top.groupby(["arch", "seed"])["share"].idxmax()]
    same_picture = bool((largest["term"] == "mu·mu").all())
    gap = float(acc[first] - acc[scope.baseline])
    return _row(
        "F5",
        statement,
        gap,
        criterion,
        same_picture and gap > 0,
        "mean test seq acc: "
        + ", ".join(f"{a} {v:.3f}" for a, v in acc.items() if a in (*scope.archs, scope.baseline))
        + (
            ""
            if len(scope.archs) > 1
            else "; largest terms: "
            + ", ".join(f"{r.arch}/seed{r.seed}: {r.term} {r.share:.2f}" for r in largest.itertuples())
        ),
    )


# F6 (docs/science.md §6, stated before it was computed): which rows of gold_alignment it
# reads, and how far above the diagonal's AER the temporal-only AER may fall.
F6_ROWS = {"layer": WHOLE_MODEL, "head": WHOLE_MODEL, "convention": "predicts", "length_bin": "all"}
F6_MARGIN = 0.02
COUNTS = ["sentences", "predicted", "sure", "possible", "predicted_sure", "predicted_possible"]


def f6(gold: pd.DataFrame, scope: Scope = PAPER) -> dict:
    """On human word alignments, each translation model with attention of the scope aligns
    better than position alone (a), and its temporal terms alone do not (b): for the model
    as a whole, target word j read at the step that predicts it, all 447 pairs. Each
    model's counts are summed over the seeds the rows hold (one seed's rows: that seed's
    model) before the AER is taken. The value is the smallest gain AER(diagonal) −
    AER(attention) over the models."""
    statement = (
        "On human word alignments, a translation model's attention aligns better than position alone, "
        "and the gain is not in its temporal terms"
    )
    criterion = (
        f"for every translation model with attention ({'/'.join(scope.labels)}): AER(attention) < AER(diagonal), "
        f"and AER(temporal_only) >= AER(diagonal) - {F6_MARGIN}; whole model, convention predicts, all pairs"
    )
    rows = gold
    for column, value in F6_ROWS.items():
        rows = rows[rows[column] == value] if column in rows else rows.iloc[:0]
    rows = rows[rows["arch"].isin(scope.archs)] if "arch" in rows else rows
    if rows.empty:
        return _row("F6", statement, np.nan, criterion, None, f"needs translation with {' or '.join(scope.archs)}")
    gains, passed, details = [], True, []
    for (task, arch), model in rows.groupby(["task", "arch"], sort=False):
        pooled = model.groupby("reading")[COUNTS].sum()
        aer = {reading: alignment_scores(counts)["aer"] for reading, counts in pooled.iterrows()}
        gain = aer["diagonal"] - aer["attention"]
        gains.append(gain)
        passed &= bool(gain > 0 and aer["temporal_only"] >= aer["diagonal"] - F6_MARGIN)
        details.append(
            f"{task}/{arch}: AER attention {aer['attention']:.3f}, diagonal {aer['diagonal']:.3f}, "
            f"temporal-only {aer['temporal_only']:.3f}, without mu·mu {aer['without_mu_mu']:.3f}"
        )
    return _row("F6", statement, float(min(gains)), criterion, passed, "; ".join(details))


CHECKS = {  # claim -> the check, called on the tables (pooled, or one seed's rows) and a scope
    "F1": lambda t, scope: f1(t["approximation"], t["term_shares"], scope),
    "F2": lambda t, scope: f2(t["dictionary"], scope),
    "F3": lambda t, scope: f3(t["dictionary"], scope),
    "F4": lambda t, scope: f4(t["approximation"], t["term_shares"], scope),
    "F5": lambda t, scope: f5(t["approximation"], t["term_shares"], t["accuracy"], scope),
    "F6": lambda t, scope: f6(t["gold_alignment"], scope),
}
COLUMNS = [
    "scope",
    "claim",
    "statement",
    "value",
    "criterion",
    "status",
    "pooled",
    "seeds_passing",
    "per_seed",
    "spread",
    "detail",
]


def scopes_of(tables: dict) -> list[Scope]:
    """The scopes to check: the paper's always, each other one when the tables hold its
    architecture."""
    present = {a for df in tables.values() if "arch" in df for a in df["arch"].dropna().unique()}
    return [s for s in SCOPES.values() if s is PAPER or set(s.archs) & present]


def claims(
    accuracy: pd.DataFrame,
    approx: pd.DataFrame,
    shares: pd.DataFrame,
    dictionary: pd.DataFrame,
    gold_alignment: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per scope (:func:`scopes_of`) and claim, checked on every seed's models
    alone and on all seeds pooled. A claim passes only when it holds pooled and on every
    seed; ``seeds_passing`` counts the seeds, ``per_seed`` gives each seed's value and
    ``spread`` their range. Without a ``gold_alignment`` table, F6 is not checked."""
    tables = {
        "accuracy": accuracy,
        "approximation": approx,
        "term_shares": shares,
        "dictionary": dictionary,
        "gold_alignment": pd.DataFrame() if gold_alignment is None else gold_alignment,
    }
    seeds = sorted({int(s) for df in tables.values() if "seed" in df for s in df["seed"].dropna().unique()})
    rows = []
    for scope, _claim, check in ((scope, c, check) for scope in scopes_of(tables) for c, check in CHECKS.items()):
        row = {"scope": scope.name, **check(tables, scope)}
        per_seed = {
            s: check({k: df[df["seed"] == s] if "seed" in df else df for k, df in tables.items()}, scope) for s in seeds
        }
        checked = {s: r for s, r in per_seed.items() if r["status"] != "not checked"}
        values = [r["value"] for r in checked.values() if pd.notna(r["value"])]
        passing = sum(r["status"] == "pass" for r in checked.values())
        if row["status"] == "pass" and passing < len(checked):
            row["status"] = "fail"  # it must hold on every seed
        row.update(
            pooled=pooled_seeds(accuracy),
            seeds_passing=f"{passing}/{len(checked)}",
            per_seed="; ".join(f"{s}: {r['value']:.3f} {r['status']}" for s, r in checked.items()),
            spread=f"{min(values):.3f}–{max(values):.3f}" if values else "",
        )
        rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)


def paper_scope(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of claims.csv that check the paper as it states it (all rows of a table
    written before claims had scopes)."""
    return table[table["scope"] == PAPER.name] if "scope" in table.columns else table


def pooled_seeds(accuracy: pd.DataFrame) -> str:
    """How many seeds the pool holds, naming the tasks that ran on fewer (overrides.<task>.n_seeds)."""
    if accuracy.empty:
        return ""
    per_task = accuracy.groupby("task", sort=False)["seed"].nunique()
    most = int(per_task.max())
    fewer = [f"{t}: {n}" for t, n in per_task.items() if n < most]
    return f"{most} seeds" + (f" ({', '.join(fewer)})" if fewer else "")


def summary_markdown(table: pd.DataFrame) -> str:
    paper = paper_scope(table)
    lines = [
        "# Claims F1–F6, as measured",
        "",
        "F1–F5 are the paper's findings, F6 this project's own (docs/science.md §6).",
        "",
        f"{(paper['status'] == 'pass').sum()} of {len(paper)} claims pass "
        f"({(paper['status'] == 'not checked').sum()} not checked). A claim passes only when it holds "
        "on every seed's models alone and on all seeds pooled.",
        "",
    ]
    others = [s for s in table["scope"].unique() if s != PAPER.name] if "scope" in table.columns else []
    if others:
        lines += [
            "The same claims asked of "
            + ", ".join(ARCHITECTURES[s].label for s in others)
            + " alone follow the paper's (docs/transformer.md says how each is read).",
            "",
        ]
    for r in table.itertuples():
        value = "n/a" if pd.isna(r.value) else f"{r.value:.3f}"
        scope = getattr(r, "scope", PAPER.name)
        title = "" if scope == PAPER.name else f" ({ARCHITECTURES[scope].label})"
        lines += [
            f"## {r.claim}{title}: {r.status}",
            "",
            r.statement + ".",
            "",
            f"- measured (pooled over {r.pooled}): **{value}**",
            f"- criterion: {r.criterion}",
            f"- seeds passing: {r.seeds_passing}"
            + (f" (per seed: {r.per_seed}; range {r.spread})" if r.per_seed else ""),
        ]
        if r.detail:
            lines.append(f"- detail: {r.detail}")
        lines.append("")
    return "\n".join(lines)
