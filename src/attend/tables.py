"""Aggregate per-model measurements into the project's tables (long format, one row per
task × architecture × seed × measured item), with seed means and spread."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .analysis.measure import TABLE_COLUMNS
from .probe import identity
from .tasks.base import DataError, check_identity, read_json, regenerate

KEYS = ["task", "arch", "seed"]
# Every aggregated table, declared once: the tables stacked from a file of each model's
# training folder, then those stacked from each model's measurements.
MODEL_FILES = {"accuracy": "metrics.json", "training_log": "train_log.csv"}
TABLES = (*MODEL_FILES, *TABLE_COLUMNS)


def read_table(path) -> pd.DataFrame:
    """A CSV of this project: only empty cells are missing, so words such as "null" or
    "nan" (translation vocabularies have them) stay words."""
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


# Per-model files that must hold at least one row: without one, the model would silently
# vanish from its table and figure.
NON_EMPTY = {"train_log.csv": ["epoch", "loss", "step", "val_seq_acc"]}
METRICS_KEYS = ["task", "arch", "seed", "test_token_acc", "test_seq_acc", "steps"]


def _read_csv(path) -> pd.DataFrame:
    """A per-model CSV; a table that does not apply to a model is a header without rows,
    while an empty or unreadable file is an error naming the file."""
    path = Path(path)
    try:
        df = read_table(path)
    except FileNotFoundError:
        raise DataError(f"{path}: the file is missing; {regenerate(path)}") from None
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: not a readable table ({type(err).__name__}: {err}); {regenerate(path)}") from None
    need = NON_EMPTY.get(path.name)
    if need and (df.empty or not set(need) <= set(df.columns) or df[need].isna().any().any()):
        raise DataError(f"{path}: the training log is empty or cut short (needs rows with {need}); "
                        f"{regenerate(path)}")
    return df


def _check_analysis(run: dict) -> None:
    """A per-model measurement CSV belongs to the analysis.npz beside it: check that one's identity."""
    arrays = Path(run["path"]).with_name("analysis.npz")
    if arrays.exists():
        with np.load(arrays, allow_pickle=False) as npz:  # reads the one member only
            found = identity({k: npz[k] for k in npz.files if k == "identity"})
        check_identity(found, {k: run[k] for k in KEYS}, arrays, "analysis")


def stack(runs: list[dict]) -> pd.DataFrame:
    """One table from per-model CSVs: ``runs`` holds dicts of task, arch, seed and path."""
    frames = []
    for run in runs:
        if Path(run["path"]).suffix == ".csv" and Path(run["path"]).name not in NON_EMPTY:
            _check_analysis(run)
        df = _read_csv(run["path"])
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
    values = [c for c in df.select_dtypes("number").columns if c not in KEYS and c not in ("step", "head")]
    groups = [c for c in df.columns if c not in values and c != "seed"]
    summary = df.groupby(groups, dropna=False, sort=False)[values].agg(["mean", "std", "count"])
    summary.columns = [f"{col}_{stat}" for col, stat in summary.columns]
    return summary.reset_index()
