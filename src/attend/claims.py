"""The paper's findings F1–F5 (PAPER.md §1) as checks on the aggregated tables.

Each claim is one row: the measured value, the criterion it is held to, and pass/fail.
The criteria are this project's operationalisation of the paper's words (a documented
choice); where the runs a claim needs are absent from the config, the row says so and
counts as not checked rather than failed.

A multi-head model (``model.attention: multihead``) is read as a whole: every share and
approximation metric a claim uses is the uniform mean over its heads of that head's own
value (each head at its own attended position, against its own mean attention; the
tables' ``head`` -1 rows), so F1 asks that the heads' mean temporal-only agreement reach
0.9 and that μ·μ lead the heads' mean shares, F4 ranks the heads' mean shares, and F5
compares those means. F2 and F3 read the value path, the heads' values concatenated and
mapped by W_o, as one matrix; accuracy is the model's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import tasks
from .analysis.measure import whole_model
from .architectures import ATTENTION_ARCHS

# F1 and F5 are stated on one-to-one attention; the other claims read the task families
# of the registry (attend.tasks).
REFERENCE_TASK = "one_to_one"


def family(name: str) -> tuple[str, ...]:
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


def spearman(x, y) -> float:
    """Spearman rank correlation (average ranks for ties)."""
    rx, ry = pd.Series(x).rank().to_numpy(), pd.Series(y).rank().to_numpy()
    if len(rx) < 3 or rx.std() == 0 or ry.std() == 0:
        return float("nan")
    return float(np.corrcoef(rx, ry)[0, 1])


def _row(claim, statement, value, criterion, passed, detail=""):
    status = "not checked" if passed is None else ("pass" if passed else "fail")
    return {"claim": claim, "statement": statement, "value": value, "criterion": criterion,
            "status": status, "detail": detail}


def f1(approx: pd.DataFrame, shares: pd.DataFrame) -> dict:
    """Temporal components align through Q/K: on one_to_one the temporal-only attention
    has the argmax of the mean attention, and mu·mu is the largest term."""
    statement = "Temporal components of encoder and decoder align through the key/query matrices (diagonal attention on one_to_one)"
    agree = _metric(approx, "temporal_argmax_agreement")
    agree = agree[(agree["task"] == REFERENCE_TASK) & agree["arch"].isin(ATTENTION_ARCHS)]
    top = _overall_shares(shares)
    top = top[(top["task"] == REFERENCE_TASK) & top["arch"].isin(ATTENTION_ARCHS)]
    if agree.empty or top.empty:
        return _row("F1", statement, np.nan, "temporal-only argmax agreement >= 0.9 and mu·mu the largest share", None,
                    "needs one_to_one with aed or ao")
    largest = top.loc[top.groupby(["arch", "seed"])["share"].idxmax()]
    mu_mu_first = bool((largest["term"] == "mu·mu").all())
    value = float(agree["value"].min())
    return _row("F1", statement, value, "min over AED/AO of temporal-only argmax agreement >= 0.9, and mu·mu the largest share",
                value >= 0.9 and mu_mu_first,
                "largest terms: " + ", ".join(f"{r.arch}/seed{r.seed}: {r.term} {r.share:.2f}" for r in largest.itertuples()))


def f2(dictionary: pd.DataFrame) -> dict:
    """Input components, through the value matrix, point along their translation's readout."""
    statement = "Input components, multiplied by the value matrix, cluster along the readout vectors"
    d = dictionary[dictionary["task"].isin(dictionary_tasks()) & dictionary["arch"].isin(ATTENTION_ARCHS)]
    if d.empty:
        return _row("F2", statement, np.nan, "mean cosine >= 0.3", None, "needs synthetic tasks with aed or ao")
    value = float(d["cosine"].mean())
    per = d.groupby(["task", "arch"])["cosine"].mean()
    return _row("F2", statement, value, "mean cosine(V chi_E(w), readout of w's translation) >= 0.3", value >= 0.3,
                ", ".join(f"{t}/{a} {v:.2f}" for (t, a), v in per.items()))


def f3(dictionary: pd.DataFrame) -> dict:
    """Reading out each encoder input component through V and the readout recovers the
    task's dictionary."""
    statement = "The readout of the context vector applied to the encoder input components yields the translation dictionary"
    d = dictionary[dictionary["task"].isin(dictionary_tasks()) & dictionary["arch"].isin(ATTENTION_ARCHS)]
    if d.empty:
        return _row("F3", statement, np.nan, "dictionary accuracy >= 0.9", None, "needs synthetic tasks with aed or ao")
    per = d.groupby(["task", "arch"])["correct"].mean()
    value = float(per.min())
    return _row("F3", statement, value, "dictionary accuracy >= 0.9 for every synthetic task × (AED, AO)", value >= 0.9,
                ", ".join(f"{t}/{a} {v:.2f}" for (t, a), v in per.items()))


def f4_points(approx: pd.DataFrame, shares: pd.DataFrame, metric: str = "argmax_agreement") -> pd.DataFrame:
    """F4's points, one per task × attention architecture × seed: an approximation
    ``metric`` of the mean attention (``value``) and the overall μ·μ share (``share``).
    Figure 6 draws exactly these."""
    columns = ["task", "arch", "seed", "value", "share"]
    if approx.empty or shares.empty:
        return pd.DataFrame(columns=columns)
    a = _metric(approx, metric)[["task", "arch", "seed", "value"]]
    m = _overall_shares(shares)
    m = m[m["term"] == "mu·mu"][["task", "arch", "seed", "share"]]
    points = a.merge(m, on=["task", "arch", "seed"])
    return points[points["arch"].isin(ATTENTION_ARCHS)].dropna(subset=["value", "share"])[columns]


def f4(approx: pd.DataFrame, shares: pd.DataFrame) -> dict:
    """Across tasks, the better the average attention approximates single examples, the
    larger the temporal share; content-based tasks (sort) lean on input terms."""
    statement = "The closer the average attention matrix is to individual ones, the larger the temporal share; sort is input-driven"
    points = f4_points(approx, shares)
    if points["task"].nunique() < 3:
        return _row("F4", statement, np.nan, "Spearman rho >= 0.5 over >= 3 tasks", None, "needs at least 3 tasks with aed or ao")
    rho = spearman(points["value"], points["share"])
    by_task = points.groupby("task")["share"].mean()
    content = [t for t in family("input") if t in by_task]
    temporal = [t for t in family("temporal") if t in by_task]
    sort_below = None
    if content and temporal:
        sort_below = bool(max(by_task[t] for t in content) < min(by_task[t] for t in temporal))
    passed = rho >= 0.5 and sort_below is not False
    return _row("F4", statement, rho,
                "Spearman rho(argmax agreement with mean attention, mu·mu share) >= 0.5, and the mu·mu share of "
                "every input-family task (sort) below every temporal-family task's (one_to_one, reverse)",
                passed, "mean mu·mu share: " + ", ".join(f"{t} {v:.2f}" for t, v in by_task.items()))


def f5(approx: pd.DataFrame, shares: pd.DataFrame, accuracy: pd.DataFrame) -> dict:
    """AED and AO reach the same picture on one_to_one (mu·mu dominant in both), and VED,
    the baseline without attention, is less accurate than AED."""
    statement = "AED and AO reach the same picture by different routes; VED is the weaker baseline"
    top = _overall_shares(shares)
    top = top[top["task"] == REFERENCE_TASK]
    archs = set(top["arch"])
    acc = accuracy.groupby("arch")["test_seq_acc"].mean()
    if not {"aed", "ao"} <= archs or not {"aed", "ved"} <= set(acc.index):
        return _row("F5", statement, np.nan, "mu·mu largest for AED and AO; VED accuracy < AED accuracy", None,
                    "needs one_to_one with aed and ao, and ved")
    largest = top.loc[top.groupby(["arch", "seed"])["share"].idxmax()]
    same_picture = bool((largest["term"] == "mu·mu").all())
    gap = float(acc["aed"] - acc["ved"])
    return _row("F5", statement, gap, "mu·mu largest for both AED and AO on one_to_one, and mean test sequence accuracy AED - VED > 0",
                same_picture and gap > 0,
                "mean test seq acc: " + ", ".join(f"{a} {v:.3f}" for a, v in acc.items()))


CHECKS = {  # claim -> the check, called on the tables (pooled, or one seed's rows)
    "F1": lambda t: f1(t["approximation"], t["term_shares"]),
    "F2": lambda t: f2(t["dictionary"]),
    "F3": lambda t: f3(t["dictionary"]),
    "F4": lambda t: f4(t["approximation"], t["term_shares"]),
    "F5": lambda t: f5(t["approximation"], t["term_shares"], t["accuracy"]),
}


def claims(accuracy: pd.DataFrame, approx: pd.DataFrame, shares: pd.DataFrame, dictionary: pd.DataFrame) -> pd.DataFrame:
    """One row per claim, checked on every seed's models alone and on all seeds pooled. A
    claim passes only when it holds pooled and on every seed; ``seeds_passing`` counts
    the seeds, ``per_seed`` gives each seed's value and ``spread`` their range."""
    tables = {"accuracy": accuracy, "approximation": approx, "term_shares": shares, "dictionary": dictionary}
    seeds = sorted({int(s) for df in tables.values() if "seed" in df for s in df["seed"].dropna().unique()})
    rows = []
    for claim, check in CHECKS.items():
        row = check(tables)
        per_seed = {s: check({k: df[df["seed"] == s] if "seed" in df else df for k, df in tables.items()})
                    for s in seeds}
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
    columns = ["claim", "statement", "value", "criterion", "status", "pooled", "seeds_passing", "per_seed", "spread",
               "detail"]
    return pd.DataFrame(rows)[columns]


def pooled_seeds(accuracy: pd.DataFrame) -> str:
    """How many seeds the pool holds, naming the tasks that ran on fewer (overrides.<task>.n_seeds)."""
    if accuracy.empty:
        return ""
    per_task = accuracy.groupby("task", sort=False)["seed"].nunique()
    most = int(per_task.max())
    fewer = [f"{t}: {n}" for t, n in per_task.items() if n < most]
    return f"{most} seeds" + (f" ({', '.join(fewer)})" if fewer else "")


def summary_markdown(table: pd.DataFrame) -> str:
    lines = ["# Claims F1–F5, as measured", "",
             f"{(table['status'] == 'pass').sum()} of {len(table)} claims pass "
             f"({(table['status'] == 'not checked').sum()} not checked). A claim passes only when it holds "
             "on every seed's models alone and on all seeds pooled.", ""]
    for r in table.itertuples():
        value = "n/a" if pd.isna(r.value) else f"{r.value:.3f}"
        lines += [f"## {r.claim}: {r.status}", "", r.statement + ".", "",
                  f"- measured (pooled over {r.pooled}): **{value}**", f"- criterion: {r.criterion}",
                  f"- seeds passing: {r.seeds_passing}" + (f" (per seed: {r.per_seed}; range {r.spread})"
                                                           if r.per_seed else "")]
        if r.detail:
            lines.append(f"- detail: {r.detail}")
        lines.append("")
    return "\n".join(lines)
