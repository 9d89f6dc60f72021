"""Shared look of every figure, and how figures read their inputs and write their files."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ..analysis.measure import load_analysis  # noqa: E402
from ..tables import read_table  # noqa: E402

ARCH_COLORS = {"ved": "#7f7f7f", "aed": "#1f77b4", "ao": "#d62728"}
ARCH_NAMES = {"ved": "VED", "aed": "AED", "ao": "AO"}
TASK_NAMES = {"one_to_one": "one-to-one", "reverse": "reverse", "sort": "sort", "escan": "eSCAN",
              "translation": "translation"}
TASK_MARKERS = {"one_to_one": "o", "reverse": "s", "sort": "^", "escan": "D", "translation": "P"}
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


class Model:
    """One model's measurements: ``arrays`` from analysis.npz and ``table(name)`` for the
    per-model CSVs written beside it."""

    def __init__(self, key: str, path: str | Path):
        self.key, self.path = key, Path(path)
        self.task, self.arch = key.split("/")
        self.arrays = load_analysis(path)

    def table(self, name: str) -> pd.DataFrame:
        """A per-model CSV; empty when it is missing or has no rows (VED, no alignment)."""
        return table_or_empty(self.path.parent / f"{name}.csv")

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
    def title(self) -> str:
        return f"{TASK_NAMES.get(self.task, self.task)}, {ARCH_NAMES.get(self.arch, self.arch)}"


def pct(x: float) -> str:
    return f"{x:.0%}" if np.isfinite(x) else "n/a"


def table_or_empty(path: str | Path | None) -> pd.DataFrame:
    """A table, or an empty frame when there is none (not given, missing, no rows)."""
    if not path:
        return pd.DataFrame()
    try:
        return read_table(path)
    except (FileNotFoundError, pd.errors.EmptyDataError):
        return pd.DataFrame()


def load_models(analysis: dict[str, str]) -> dict[str, Model]:
    return {key: Model(key, path) for key, path in analysis.items()}


def placeholder(ax, text: str) -> None:
    """An empty panel that says why (e.g. the config leaves that task out)."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=7, color="0.4", wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])


def save(fig, pdf: str, png: str) -> None:
    for path in (pdf, png):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
