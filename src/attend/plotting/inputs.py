"""What figures read: one model's measurements (:class:`Model`: its ``analysis.npz`` and
the per-model CSVs beside it), the seed means of its term shares (:class:`SeedShares`),
and tables that may be absent (:func:`table_or_empty`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..artifacts import load_analysis, read_table, recorded_identity
from ..table_layout import whole_model
from .style import pair_label


def key(task: str, arch: str) -> str:
    """The key of a model in a figure's ``analysis``: "task/arch"."""
    return f"{task}/{arch}"


class Model:
    """One model's measurements: ``arrays`` from analysis.npz and ``table(name)`` for the
    per-model CSVs written beside it."""

    def __init__(self, key: str, path: str | Path):
        self.key, self.path = key, Path(path)
        self.task, self.arch = key.split("/")
        self.arrays = load_analysis(path, expect={"task": self.task, "arch": self.arch})

    def table(self, name: str) -> pd.DataFrame:
        """A per-model CSV; empty when it is missing or has no rows (VED, no alignment).
        Of a table with ``layer`` and ``head`` columns, the model's own rows (-1, -1: the
        uniform mean over its heads and layers)."""
        return whole_model(table_or_empty(self.path.parent / f"{name}.csv"))

    def metric(self, name: str) -> float:
        """One value of the model's approximation.csv (nan when absent)."""
        df = self.table("approximation")
        row = df[df["metric"] == name] if len(df) else df
        return float(row["value"].iloc[0]) if len(row) else float("nan")

    def overall_shares(self) -> dict[str, float]:
        """Each term's share over all decoder steps (empty without attention)."""
        df = self.table("term_shares")
        if df.empty:
            return {}
        df = df[df["step"] == -1]
        return dict(zip(df["term"].astype(str), df["share"].astype(float)))

    def __getitem__(self, key: str) -> np.ndarray:
        return self.arrays[key]

    @property
    def seed(self):
        """The seed of the one model drawn (figures of one example model say which)."""
        return recorded_identity(self.arrays).get("seed")

    @property
    def title(self) -> str:
        return pair_label(self.task, self.arch)


class SeedShares:
    """The nine terms' shares of one task × architecture over its seeds, from the
    aggregated ``term_shares`` table: ``mean``/``sd`` by term overall (all decoder steps),
    ``by_step_mean``/``by_step_sd`` (steps × terms), and ``n`` seeds. The figures' share
    bars are these means, with error bars of one standard deviation over seeds."""

    def __init__(self, table: pd.DataFrame, task: str, arch: str):
        rows = table[(table["task"] == task) & (table["arch"] == arch)] if len(table) else table
        rows = whole_model(rows)  # a multi-head model's own rows: its heads' mean
        self.n = int(rows["seed"].nunique()) if len(rows) else 0
        overall = rows[rows["step"] == -1] if len(rows) else rows
        stats = overall.groupby("term")["share"].agg(["mean", "std"]) if len(rows) else pd.DataFrame()
        self.mean = {str(t): float(v) for t, v in stats.get("mean", pd.Series(dtype=float)).items()}
        self.sd = {
            str(t): (0.0 if pd.isna(v) else float(v)) for t, v in stats.get("std", pd.Series(dtype=float)).items()
        }
        steps = rows[rows["step"] >= 0] if len(rows) else rows
        if len(steps):
            by = steps.groupby(["step", "term"])["share"].agg(["mean", "std"]).fillna(0.0)
            self.by_step_mean = by["mean"].unstack("term")
            self.by_step_sd = by["std"].unstack("term")
        else:
            self.by_step_mean = self.by_step_sd = pd.DataFrame()

    def __bool__(self) -> bool:
        return bool(self.mean)

    @property
    def label(self) -> str:
        return f"mean of {self.n} seed{'s' if self.n != 1 else ''}" + (" ± 1 sd" if self.n > 1 else "")


def seed_shares(tables: dict, task: str, arch: str) -> SeedShares:
    """:class:`SeedShares` from a figure's ``tables`` (empty when it has no term_shares)."""
    return SeedShares(table_or_empty(tables.get("term_shares")), task, arch)


def table_or_empty(path: str | Path | dict | None) -> pd.DataFrame:
    """A table, or an empty frame when there is none (not given, missing, no rows).
    ``path`` is an aggregated CSV, or {"task/arch/seed": per-model CSV} (a figure's
    ``seed_tables``), stacked with task, arch and seed columns."""
    if isinstance(path, dict):
        frames = []
        for run, one in path.items():
            task, arch, seed = run.split("/")
            df = table_or_empty(one)
            if len(df):
                frames.append(df.assign(task=task, arch=arch, seed=int(seed)))
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if not path:
        return pd.DataFrame()
    try:
        return read_table(path)
    except (FileNotFoundError, pd.errors.EmptyDataError):
        return pd.DataFrame()


def load_models(analysis: dict[str, str], pairs) -> dict[str, Model]:
    """The models of ``pairs`` ((task, arch), a figure's ``FIGURE.pairs()``) that
    ``analysis`` has, by "task/arch"; the others are left out (the config does not run them)."""
    keys = [key(t, a) for t, a in pairs]
    return {k: Model(k, analysis[k]) for k in keys if k in analysis}
