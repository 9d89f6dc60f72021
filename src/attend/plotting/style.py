"""Shared look of every figure, and how figures read their inputs and write their files."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .. import tasks  # noqa: E402
from ..analysis.measure import load_analysis  # noqa: E402
from ..probe import identity  # noqa: E402
from ..architectures import ARCHITECTURES  # noqa: E402
from ..tables import read_table  # noqa: E402

# The nine score terms, decoder·encoder, coloured by family: temporal, input, residual.
TERM_COLORS = {
    "mu·mu": "#08519c", "mu·chi": "#6baed6", "mu·delta": "#c6dbef",
    "chi·mu": "#a1d99b", "chi·chi": "#238b45", "chi·delta": "#c7e9c0",
    "delta·mu": "#fdd0a2", "delta·chi": "#fd8d3c", "delta·delta": "#a63603",
}
TERM_LABELS = {t: t.replace("mu", "μ").replace("chi", "χ").replace("delta", "Δ") for t in TERM_COLORS}
ATTENTION_CMAP = "viridis"

plt.rcParams.update({
    "figure.dpi": 110, "savefig.dpi": 150, "font.size": 8, "axes.titlesize": 9, "axes.labelsize": 8,
    "legend.fontsize": 7, "xtick.labelsize": 7, "ytick.labelsize": 7,
    "axes.spines.top": False, "axes.spines.right": False, "pdf.fonttype": 42,
})


# How a task or an architecture looks comes from its declaration (attend.tasks,
# attend.architectures); a name that is not registered (an old table) is drawn plainly.
# Functions, not mappings built at import, since a task module may register later.


def task_names() -> list[str]:
    """Every registered task, in registry order."""
    return list(tasks.load_task_modules())


def arch_names() -> list[str]:
    """Every architecture, in declaration order."""
    return list(ARCHITECTURES)


def task_label(name: str) -> str:
    spec = tasks.load_task_modules().get(name)
    return spec.label if spec else name


def task_color(name: str) -> str:
    spec = tasks.load_task_modules().get(name)
    return spec.color if spec else "0.5"


def task_marker(name: str) -> str:
    spec = tasks.load_task_modules().get(name)
    return spec.marker if spec else "o"


def arch_label(name: str) -> str:
    return ARCHITECTURES[name].label if name in ARCHITECTURES else name


def arch_color(name: str) -> str:
    return ARCHITECTURES[name].color if name in ARCHITECTURES else "k"


def pair_label(task: str, arch: str, sep: str = ", ") -> str:
    """"one-to-one, AED": how a figure names one model."""
    return f"{task_label(task)}{sep}{arch_label(arch)}"


def ordered(names, order) -> list[str]:
    """``names`` in the order of ``order`` (a registry's), then any others sorted."""
    names = set(names)
    return [n for n in order if n in names] + sorted(n for n in names if n not in order)


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
        Of a table with a ``head`` column, the model's own rows (head -1: a multi-head
        model's heads averaged uniformly)."""
        df = table_or_empty(self.path.parent / f"{name}.csv")
        return df[df["head"] == -1] if "head" in df.columns else df

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
        return identity(self.arrays).get("seed")

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
        if "head" in rows:  # a multi-head model's own rows: its heads' mean (head -1)
            rows = rows[rows["head"] == -1]
        self.n = int(rows["seed"].nunique()) if len(rows) else 0
        overall = rows[rows["step"] == -1] if len(rows) else rows
        stats = overall.groupby("term")["share"].agg(["mean", "std"]) if len(rows) else pd.DataFrame()
        self.mean = {str(t): float(v) for t, v in stats.get("mean", pd.Series(dtype=float)).items()}
        self.sd = {str(t): (0.0 if pd.isna(v) else float(v)) for t, v in stats.get("std", pd.Series(dtype=float)).items()}
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


def pct(x: float) -> str:
    return f"{x:.0%}" if np.isfinite(x) else "n/a"


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


def placeholder(ax, text: str) -> None:
    """An empty panel that says why (e.g. the config leaves that task out)."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=7, color="0.4", wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])


def save(fig, pdf: str, png: str) -> None:
    """Write both files; the PDF without a creation date, so the same figure is the same bytes."""
    for path, metadata in ((pdf, {"CreationDate": None}), (png, None)):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, bbox_inches="tight", metadata=metadata)
    plt.close(fig)
