"""Aggregate per-model measurements into the project's tables (long format, one row per
task × architecture × seed × measured item), with seed means and spread."""

from __future__ import annotations

import pandas as pd

from .artifacts import DataError, check_model_file, read_json, read_model_csv, regenerate
from .table_layout import GOLD_TABLE_COLUMNS, TABLE_COLUMNS

KEYS = ["task", "arch", "seed"]
# What made each row's model, beside KEYS: the variant whose branch trained it and the
# digest of its settings (attend.variants.model_identity), so that the claims and figures
# can check that an aggregated table is their variant's.
IDENTITY = ["variant", "settings_digest"]
# Every aggregated table, declared once: the tables stacked from a file of each model's
# training folder, then those stacked from each model's measurements, then those of the
# models probed on the gold word alignments (attend.gold_alignment.applies), whose per-model
# CSVs lie in the GOLD_FOLDER of the model's analysis folder.
MODEL_FILES = {"accuracy": "metrics.json", "training_log": "train_log.csv"}
TABLES = (*MODEL_FILES, *TABLE_COLUMNS, *GOLD_TABLE_COLUMNS)
GOLD_FOLDER = "gold"
METRICS_KEYS = ["task", "arch", "seed", "test_token_acc", "test_seq_acc", "steps"]


def _expected(run: dict) -> dict:
    """The identity a run's files must record: its task, arch and seed, and what made its
    model (``run["identity"]``: variant and settings digest) when the caller knows it."""
    return {k: run[k] for k in KEYS} | dict(run.get("identity") or {})


def stack(runs: list[dict]) -> pd.DataFrame:
    """One table from per-model CSVs: ``runs`` holds dicts of task, arch, seed and path (and
    optionally ``identity``, what made the model); each file is checked to be that model's
    (:func:`attend.artifacts.check_model_file`) before it is read."""
    frames = []
    for run in runs:
        check_model_file(run["path"], _expected(run))
        df = read_model_csv(run["path"])
        if len(df):
            frames.append(df.assign(**_expected(run)))
    if not frames:
        return pd.DataFrame(columns=KEYS)
    df = pd.concat(frames, ignore_index=True)
    first = KEYS + [c for c in IDENTITY if c in df.columns]
    return df[first + [c for c in df.columns if c not in first]]


def accuracy(runs: list[dict]) -> pd.DataFrame:
    """One row per model from its metrics JSON, which must be that model's."""
    rows = []
    for run in runs:
        m = read_json(run["path"], "metrics", METRICS_KEYS)
        check_model_file(run["path"], _expected(run))
        rows.append({k: run[k] for k in KEYS} | {k: v for k, v in m.items() if k not in KEYS})
    return pd.DataFrame(rows)


def check_rows(df: pd.DataFrame, identities: dict[str, dict], path) -> None:
    """Check that every row of an aggregated table comes from the models a consumer expects:
    ``identities`` maps "task/arch" to what made that model (variant, settings digest). A
    table copied from another variant's branch or another run is refused by name."""
    if df.empty:
        return
    missing = [c for c in IDENTITY if c not in df.columns]
    if missing:
        raise DataError(
            f"{path}: the table lacks the columns {missing} that say which models its rows come from "
            f"(it predates them, or was not made by this workflow); {regenerate(path)}"
        )
    for (task, arch), rows in df.groupby(["task", "arch"], sort=False):
        expected = identities.get(f"{task}/{arch}")
        if expected is None:
            raise DataError(
                f"{path}: holds rows of {task}/{arch}, which this run does not make: it was copied here "
                f"from another run; {regenerate(path)}"
            )
        for key, want in expected.items():
            found = sorted(set(rows[key].astype(str)))
            if found != [str(want)]:
                raise DataError(
                    f"{path}: its rows of {task}/{arch} come from models whose {key} is "
                    f"{', '.join(map(repr, found))}, expected {want!r}: the table was copied here from "
                    f"another variant or run; {regenerate(path)}"
                )


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
