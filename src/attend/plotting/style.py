"""The shared look of every figure (colours, labels, fonts) and how figures write their
files; what they read is in ``attend.plotting.inputs``."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from .. import tasks
from ..architectures import ARCHITECTURES
from ..artifacts import atomic_write

# The nine score terms, decoder·encoder, coloured by family: temporal, input, residual.
TERM_COLORS = {
    "mu·mu": "#08519c",
    "mu·chi": "#6baed6",
    "mu·delta": "#c6dbef",
    "chi·mu": "#a1d99b",
    "chi·chi": "#238b45",
    "chi·delta": "#c7e9c0",
    "delta·mu": "#fdd0a2",
    "delta·chi": "#fd8d3c",
    "delta·delta": "#a63603",
}
TERM_LABELS = {t: t.replace("mu", "μ").replace("chi", "χ").replace("delta", "Δ") for t in TERM_COLORS}
ATTENTION_CMAP = "viridis"

plt.rcParams.update(
    {
        "figure.dpi": 110,
        "savefig.dpi": 150,
        "font.size": 8,
        "axes.titlesize": 9,
        "axes.labelsize": 8,
        "legend.fontsize": 7,
        "xtick.labelsize": 7,
        "ytick.labelsize": 7,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "pdf.fonttype": 42,
    }
)


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
    """ "one-to-one, AED": how a figure names one model."""
    return f"{task_label(task)}{sep}{arch_label(arch)}"


def ordered(names, order) -> list[str]:
    """``names`` in the order of ``order`` (a registry's), then any others sorted."""
    names = set(names)
    return [n for n in order if n in names] + sorted(n for n in names if n not in order)


def pct(x: float) -> str:
    return f"{x:.0%}" if np.isfinite(x) else "n/a"


def placeholder(ax, text: str) -> None:
    """An empty panel that says why (e.g. the config leaves that task out)."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=7, color="0.4", wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])


def save(fig, pdf: str, png: str) -> None:
    """Write both files; the PDF without a creation date, so the same figure is the same bytes."""
    for path, metadata in ((pdf, {"CreationDate": None}), (png, None)):
        fmt = Path(path).suffix.lstrip(".")
        atomic_write(
            path,
            lambda fh, fmt=fmt, metadata=metadata: fig.savefig(fh, format=fmt, bbox_inches="tight", metadata=metadata),
        )
    plt.close(fig)
