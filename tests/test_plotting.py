"""Every figure renders from saved arrays and tables alone, without TensorFlow, including
when the config leaves some of its tasks or architectures out, and when a task module
registers a task of its own."""

import dataclasses
import importlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgb

from attend import tables as agg
from attend import tasks
from attend.analysis.measure import TABLE_COLUMNS, measure
from attend.artifacts import file_digest, read_table, save_analysis
from attend.architectures import ARCHITECTURES
from attend.claims import claims
from attend.plotting import figures, inputs, style
from attend.plotting.fig11_variants import STATUS_COLORS
from attend.variants import COMPARISON_TABLES, variant_claims, variant_shares

REPO = Path(__file__).resolve().parents[1]
FIGURES = list(figures())
UNITS = 12  # the probes' hidden size, which fig09 shows as model.units
SETTINGS = {"model.units": UNITS}  # a value for every key a FIGURE's settings may name
TOY = dataclasses.replace(tasks.load_task_modules()["one_to_one"], name="toy_copy", label="toy copy",
                          color="#000000", marker="X")


def _model_outputs(make_probe, root: Path, task_names, seed0: int = 0):
    """Analysis outputs of ``task_names`` × every architecture from small random probes,
    laid out as the workflow lays them out: ({"task/arch": analysis.npz}, {table: runs})."""
    analysis, runs = {}, {name: [] for name in [*TABLE_COLUMNS, "accuracy", "training_log"]}
    specs = {**tasks.load_task_modules(), TOY.name: TOY}
    for k, (task, arch) in enumerate(((t, a) for t in task_names for a in ARCHITECTURES), start=seed0):
        probe = make_probe(n=48, s=10, t=9, units=UNITS, arch=arch, seed=k)
        if specs[task].alignment:
            probe["align"] = np.minimum(np.arange(9)[None].repeat(48, 0), probe["enc_len"][:, None] - 1).astype(np.int32)
        probe["identity"] = np.array(json.dumps({"task": task, "arch": arch, "seed": 0}))
        tbls, arrays, _ = measure(probe, {f"I_{i}": f"O_{i}" for i in range(6)}, n_samples=4)
        d = root / "analysis" / task / arch / "seed0"
        paths = {name: str(d / f"{name}.csv") for name in TABLE_COLUMNS}
        save_analysis(tbls, arrays, d / "analysis.npz", paths)
        analysis[inputs.key(task, arch)] = str(d / "analysis.npz")
        run = {"task": task, "arch": arch, "seed": 0}
        for name, path in paths.items():
            runs[name].append(dict(run, path=path))
        log = d / "train_log.csv"
        pd.DataFrame({"epoch": range(5), "loss": np.linspace(2, 0.1, 5),
                      "step": np.arange(1, 6) * 50, "val_loss": np.linspace(2.2, 0.2, 5), "val_seq_acc": np.linspace(0, 1, 5),
                      "val_token_acc": np.linspace(0.3, 1, 5)}).to_csv(log, index=False)
        runs["training_log"].append(dict(run, path=str(log)))
        m = d / "metrics.json"
        m.write_text(json.dumps({"task": task, "arch": arch, "seed": 0, "test_seq_acc": 0.5 + 0.1 * k / 15,
                                 "test_token_acc": 0.9, "steps": 100 * (k + 1), "train_log_sha256": file_digest(log)}))
        runs["accuracy"].append(dict(run, path=str(m)))
    return analysis, runs


def _aggregate(root: Path, runs: dict) -> dict[str, str]:
    """The aggregated tables, as the workflow writes them, and the comparison of two
    variants (figure 11's): base, and "shifted" with every μ·μ share halved."""
    out, frames = {}, {}
    for name, rs in runs.items():
        frames[name] = agg.accuracy(rs) if name == "accuracy" else agg.stack(rs)
        out[name] = str(root / "tables" / f"{name}.csv")
        Path(out[name]).parent.mkdir(parents=True, exist_ok=True)
        frames[name].to_csv(out[name], index=False)
    shares = frames["term_shares"].copy()
    shares.loc[shares["term"] == "mu·mu", "share"] /= 2
    variants = {"base": frames["term_shares"], "shifted": shares}
    compared = {
        "variant_claims": variant_claims({v: claims(frames["accuracy"], frames["approximation"], s,
                                                    frames["dictionary"]) for v, s in variants.items()}),
        "variant_shares": variant_shares(variants, dict.fromkeys(variants, frames["approximation"])),
    }
    for name, df in compared.items():
        out[name] = str(root / "tables" / f"{name}.csv")
        df.to_csv(out[name], index=False)
    return out


@pytest.fixture(scope="module")
def results(tmp_path_factory, make_probe):
    """Analysis outputs and aggregated tables of every registered task × architecture, and
    the runs behind the tables (for the toy task's fixture to extend)."""
    root = tmp_path_factory.mktemp("results")
    analysis, runs = _model_outputs(make_probe, root, list(tasks.load_task_modules()))
    return analysis, _aggregate(root, runs), runs


@pytest.fixture(scope="module")
def toy_results(tmp_path_factory, make_probe, results):
    """``results`` plus the toy task's models, in the tables too (built once)."""
    analysis, _, runs = results
    root = tmp_path_factory.mktemp("toy")
    toy_analysis, toy_runs = _model_outputs(make_probe, root, [TOY.name], seed0=100)
    runs = {name: runs[name] + toy_runs[name] for name in runs}
    return {**analysis, **toy_analysis}, _aggregate(root, runs)


@pytest.fixture
def toy_task(request):
    """A sixth task, registered as a task module would register it, for one test."""
    assert TOY.name not in tasks.REGISTRY
    tasks.register(TOY)
    request.addfinalizer(lambda: tasks.REGISTRY.pop(TOY.name, None))
    return TOY


@pytest.fixture
def drawn(monkeypatch):
    """The matplotlib figures the renders save, in order (still open for inspection)."""
    saved, save = [], style.save

    def keep(fig, pdf, png):
        saved.append(fig)
        save(fig, pdf, png)

    monkeypatch.setattr(style, "save", keep)
    return saved


def _render(name: str, analysis: dict, tables: dict, out: Path) -> tuple[Path, Path]:
    """Render one figure as the workflow does: the analyses of the (task, arch) pairs its
    FIGURE selects that there are, its tables, its settings."""
    figure = figures()[name]
    selected = {inputs.key(t, a): analysis[inputs.key(t, a)] for t, a in figure.pairs() if inputs.key(t, a) in analysis}
    pdf, png = out / f"{name}.pdf", out / f"{name}.png"
    importlib.import_module(f"attend.plotting.{name}").render(
        selected, {t: tables[t] for t in figure.tables}, str(pdf), str(png), {k: SETTINGS[k] for k in figure.settings})
    return pdf, png


def _texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")) if t.get_text()]


def test_every_figure_has_a_module():
    assert FIGURES == sorted(p.stem for p in (REPO / "src/attend/plotting").glob("fig*.py")) == [
        "fig01_overview", "fig02_one_to_one_aed", "fig03_one_to_one_ao", "fig04_ved", "fig05_synthetic_tasks",
        "fig06_summary", "fig07_escan_translation", "fig08_escan_mechanism", "fig09_architectures", "fig10_training",
        "fig11_variants",
    ]


@pytest.mark.parametrize("name", FIGURES)
def test_every_figure_is_declared_with_a_caption(name):
    figure = figures()[name]
    module = importlib.import_module(f"attend.plotting.{name}")
    assert module.FIGURE is figure
    assert figure.caption and "\n" not in figure.caption
    assert set(figure.tables) <= {*TABLE_COLUMNS, "accuracy", "training_log", *COMPARISON_TABLES}
    assert (REPO / "workflow" / "report" / f"{name}.rst").read_text().strip()


def test_figures_select_todays_models():
    pairs = {name: figure.pairs() for name, figure in figures().items()}
    assert pairs["fig01_overview"] == pairs["fig02_one_to_one_aed"] == [("one_to_one", "aed")]
    assert pairs["fig03_one_to_one_ao"] == [("one_to_one", "ao")]
    assert pairs["fig04_ved"] == [(t, "ved") for t in ("one_to_one", "reverse", "sort", "escan", "translation")]
    assert pairs["fig05_synthetic_tasks"] == [(t, a) for t in ("one_to_one", "reverse", "sort") for a in ("aed", "ao")]
    assert pairs["fig07_escan_translation"] == [(t, a) for t in ("escan", "translation") for a in ("aed", "ao")]
    assert pairs["fig08_escan_mechanism"] == [("escan", "aed"), ("escan", "ao")]
    assert pairs["fig06_summary"] == pairs["fig09_architectures"] == pairs["fig10_training"] == []
    assert pairs["fig11_variants"] == []


@pytest.mark.parametrize("name", FIGURES)
def test_figure_renders(name, results, tmp_path):
    analysis, tables, _ = results
    pdf, png = _render(name, analysis, tables, tmp_path)
    assert pdf.read_bytes()[:4] == b"%PDF"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name", FIGURES)
def test_figure_renders_with_models_left_out(name, results, tmp_path):
    """A config with only one_to_one and AED still gets every figure (with empty panels)."""
    analysis, tables, _ = results
    kept = {k: v for k, v in analysis.items() if k == "one_to_one/aed"}
    _, png = _render(name, kept, tables, tmp_path)
    assert png.stat().st_size > 1000


def test_fig09_shows_the_configured_units(results, tmp_path, drawn):
    _render("fig09_architectures", {}, {}, tmp_path)
    assert f"n = {UNITS} units" in drawn[0].get_suptitle()


@pytest.mark.parametrize("name", FIGURES)
def test_figure_renders_a_registered_sixth_task(name, toy_results, toy_task, tmp_path, drawn):
    """A task module's own task is drawn wherever its declaration selects it."""
    analysis, tables = toy_results
    _, png = _render(name, analysis, tables, tmp_path)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    texts = _texts(drawn[0])
    if name == "fig04_ved":   # every task's VED: six variance groups, six accuracy curves
        assert len(figures()[name].pairs()) == 6
        variance, length = drawn[0].axes[0], drawn[0].axes[3]
        assert [t.get_text() for t in variance.get_xticklabels()][-1] == TOY.label
        assert len([t for t in variance.get_xticklabels() if t.get_text()]) == 6
        assert [line.get_color() for line in length.get_lines()][-1] == TOY.color
        assert len(length.get_lines()) == 6
    if name == "fig05_synthetic_tasks":   # two more columns: toy × AED, AO
        assert len(drawn[0].axes) == 3 * 8
        assert f"{TOY.label}, AED" in texts and f"{TOY.label}, AO" in texts
    if name in ("fig06_summary", "fig10_training", "fig11_variants"):
        assert TOY.label in texts


def test_figures_never_import_tensorflow():
    code = ("import sys, attend.plotting.style\n"
            + "".join(f"import attend.plotting.{f}\n" for f in FIGURES)
            + "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'jax')]\n"
            + "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_fig11_draws_every_variants_claims_and_points(results, tmp_path, drawn):
    """A claim × variant grid (one cell per claim and variant, coloured by status, with its
    value), and one figure-6 panel per variant with a point per task × attention architecture."""
    _, tables, _ = results
    _render("fig11_variants", {}, tables, tmp_path)
    fig = drawn[0]
    grid, *panels = fig.axes
    compared = read_table(tables["variant_claims"])
    assert [t.get_text() for t in grid.get_xticklabels()] == ["base", "shifted"]
    assert [t.get_text() for t in grid.get_yticklabels()] == ["F1", "F2", "F3", "F4", "F5"]
    cells = [p for p in grid.patches if p.get_width() == 1]
    assert len(cells) == len(compared) == 10
    colours = {tuple(np.round(p.get_facecolor()[:3], 3)) for p in cells}
    assert colours == {tuple(np.round(to_rgb(STATUS_COLORS[s]), 3)) for s in compared["status"]}
    value = compared.set_index(["variant", "claim"]).loc[("shifted", "F1"), "value"]
    assert any(t.startswith(f"{value:.2f}") for t in _texts(grid))
    assert [ax.get_title() for ax in panels] == ["base", "shifted"]
    shares = read_table(tables["variant_shares"])
    for ax, variant in zip(panels, ["base", "shifted"]):
        assert len(ax.lines) == (shares["variant"] == variant).sum() == 5 * 2   # tasks × (AED, AO)
