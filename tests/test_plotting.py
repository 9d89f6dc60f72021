"""Every figure renders from saved arrays and tables alone, without TensorFlow, including
when the config leaves some of its tasks or architectures out."""

import importlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from attend import tables as agg
from attend.analysis.measure import TABLE_COLUMNS, measure, save_measurements
from test_analysis import random_probe

REPO = Path(__file__).resolve().parents[1]
FIGURES = sorted(p.stem for p in (REPO / "src/attend/plotting").glob("fig*.py"))
TASKS = ["one_to_one", "reverse", "sort", "escan", "translation"]
ARCHS = ["ved", "aed", "ao"]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Analysis outputs of every task × arch from small random probes, and the aggregated
    tables, laid out as the workflow lays them out."""
    root = tmp_path_factory.mktemp("results")
    analysis, runs = {}, {name: [] for name in [*TABLE_COLUMNS, "accuracy", "training_log"]}
    for k, (task, arch) in enumerate((t, a) for t in TASKS for a in ARCHS):
        probe = random_probe(n=48, s=10, t=9, units=12, arch=arch, seed=k)
        if task != "translation":
            probe["align"] = np.minimum(np.arange(9)[None].repeat(48, 0), probe["enc_len"][:, None] - 1).astype(np.int32)
        tbls, arrays = measure(probe, {f"I_{i}": f"O_{i}" for i in range(6)})
        d = root / "analysis" / task / arch / "seed0"
        paths = {name: str(d / f"{name}.csv") for name in TABLE_COLUMNS}
        save_measurements(tbls, arrays, d / "analysis.npz", paths)
        analysis[f"{task}/{arch}"] = str(d / "analysis.npz")
        run = {"task": task, "arch": arch, "seed": 0}
        for name, path in paths.items():
            runs[name].append(dict(run, path=path))
        m = d / "metrics.json"
        m.write_text(json.dumps({"test_seq_acc": 0.5 + 0.1 * k / 15, "test_token_acc": 0.9, "steps": 100 * (k + 1)}))
        runs["accuracy"].append(dict(run, path=str(m)))
        log = d / "train_log.csv"
        pd.DataFrame({"epoch": range(5), "elapsed_s": np.arange(5.0), "loss": np.linspace(2, 0.1, 5),
                      "step": np.arange(1, 6) * 50, "val_seq_acc": np.linspace(0, 1, 5),
                      "val_token_acc": np.linspace(0.3, 1, 5)}).to_csv(log, index=False)
        runs["training_log"].append(dict(run, path=str(log)))
    tables = {}
    for name, rs in runs.items():
        df = agg.accuracy(rs) if name == "accuracy" else agg.stack(rs)
        tables[name] = str(root / "tables" / f"{name}.csv")
        Path(tables[name]).parent.mkdir(exist_ok=True)
        df.to_csv(tables[name], index=False)
    return analysis, tables


def test_every_figure_has_a_module():
    assert FIGURES == [
        "fig01_overview", "fig02_one_to_one_aed", "fig03_one_to_one_ao", "fig04_ved", "fig05_synthetic_tasks",
        "fig06_summary", "fig07_escan_translation", "fig08_escan_mechanism", "fig09_architectures", "fig10_training",
    ]


@pytest.mark.parametrize("figure", FIGURES)
def test_figure_renders(figure, results, tmp_path):
    analysis, tables = results
    module = importlib.import_module(f"attend.plotting.{figure}")
    pdf, png = tmp_path / f"{figure}.pdf", tmp_path / f"{figure}.png"
    module.render(analysis, tables, str(pdf), str(png))
    assert pdf.read_bytes()[:4] == b"%PDF"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("figure", FIGURES)
def test_figure_renders_with_models_left_out(figure, results, tmp_path):
    """A config with only one_to_one and AED still gets every figure (with empty panels)."""
    analysis, tables = results
    kept = {k: v for k, v in analysis.items() if k == "one_to_one/aed"}
    module = importlib.import_module(f"attend.plotting.{figure}")
    module.render(kept, tables, str(tmp_path / "f.pdf"), str(tmp_path / "f.png"))
    assert (tmp_path / "f.png").stat().st_size > 1000


def test_figures_never_import_tensorflow():
    code = ("import sys, attend.plotting.style\n"
            + "".join(f"import attend.plotting.{f}\n" for f in FIGURES)
            + "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'jax')]\n"
            + "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True)
