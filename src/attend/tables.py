"""Aggregate per-model measurements into the project's tables (long format, one row per
task × architecture × seed × measured item), with seed means and spread."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .analysis.measure import TABLE_COLUMNS
from .artifacts import NON_EMPTY, check_beside_analysis, check_identity, read_json, read_model_csv

KEYS = ["task", "arch", "seed"]
# Every aggregated table, declared once: the tables stacked from a file of each model's
# training folder, then those stacked from each model's measurements.
MODEL_FILES = {"accuracy": "metrics.json", "training_log": "train_log.csv"}
TABLES = (*MODEL_FILES, *TABLE_COLUMNS)
METRICS_KEYS = ["task", "arch", "seed", "test_token_acc", "test_seq_acc", "steps"]


def stack(runs: list[dict]) -> pd.DataFrame:
    """One table from per-model CSVs: ``runs`` holds dicts of task, arch, seed and path."""
    frames = []
    for run in runs:
        if Path(run["path"]).suffix == ".csv" and Path(run["path"]).name not in NON_EMPTY:
            check_beside_analysis(run["path"], {k: run[k] for k in KEYS})
        df = read_model_csv(run["path"])
        if len(df):
            frames.append(df.assign(task=run["task"], arch=run["arch"], seed=run["seed"]))
    if not frames:
        return pd.DataFrame(columns=KEYS)
    df = pd.concat(frames, ignore_index=True)
    return df[KEYS + [c for c in df.columns if c not in KEYS]]


def accuracy(runs: list[dict]) -> pd.DataFrame:
    """One row per model from its metrics JSON, which must be that model's."""
    rows = []
    for run in runs:
        m = read_json(run["path"], "metrics", METRICS_KEYS)
        check_identity(m, {k: run[k] for k in KEYS}, run["path"], "metrics file")
        rows.append({k: run[k] for k in KEYS} | {k: v for k, v in m.items() if k not in KEYS})
    return pd.DataFrame(rows)


def seed_summary(df: pd.DataFrame) -> pd.DataFrame:
    """Mean, standard deviation and count over seeds of every numeric column, grouped by
    every other (non-numeric) column."""
    if df.empty:
        return df
    values = [c for c in df.select_dtypes("number").columns if c not in KEYS and c not in ("step", "layer", "head")]
    groups = [c for c in df.columns if c not in values and c != "seed"]
    summary = df.groupby(groups, dropna=False, sort=False)[values].agg(["mean", "std", "count"])
    summary.columns = [f"{col}_{stat}" for col, stat in summary.columns]
    return summary.reset_index()
