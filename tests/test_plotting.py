"""Every figure renders from saved arrays and tables alone, without TensorFlow, including
when the config leaves some of its tasks or architectures out, and when a task module
registers a task of its own.

The inputs are small random probes measured as the workflow measures them, two seeds per
task × architecture, so that seed means and standard deviations differ from any one model's
values."""

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
from attend.analysis.measure import TABLE_COLUMNS, measure, whole_model
from attend.architectures import ARCHITECTURES
from attend.artifacts import load_analysis, read_table, save_analysis
from attend.claims import claims
from attend.plotting import figures, inputs, style
from attend.plotting.fig11_variants import STATUS_COLORS
from attend.tokens import SPECIALS
from attend.variants import COMPARISON_TABLES, variant_claims, variant_shares

REPO = Path(__file__).resolve().parents[1]
FIGURES = list(figures())
UNITS = 12  # the probes' hidden size, which fig09 shows as model.units
SETTINGS = {"model.units": UNITS}  # a value for every key a FIGURE's settings may name
SEEDS = (0, 1)  # seeds of every model; figures draw the first seed's model, as the workflow does
TOY = dataclasses.replace(tasks.load_task_modules()["one_to_one"], name="toy_copy", label="toy copy",
                          color="#000000", marker="X")
KEPT = ("one_to_one", "aed")  # the one model of a config that leaves the others out


@dataclasses.dataclass
class Results:
    """What the workflow would hand the figures: each model's analysis.npz (its first
    seed's), the aggregated tables, and the per-model files of every seed behind them."""
    analysis: dict[str, str]  # "task/arch" -> analysis.npz
    tables: dict[str, str]  # aggregated table -> CSV
    runs: dict[str, list[dict]]  # table -> [{"task", "arch", "seed", "path"}], one per model

    def arrays(self, task: str, arch: str) -> dict:
        return load_analysis(self.analysis[inputs.key(task, arch)])

    def model_table(self, task: str, arch: str, name: str) -> pd.DataFrame:
        """A per-model CSV of the drawn (first) seed's model, whole-model rows."""
        return whole_model(read_table(Path(self.analysis[inputs.key(task, arch)]).parent / f"{name}.csv"))

    def table(self, name: str) -> pd.DataFrame:
        return read_table(self.tables[name])

    def has(self, task: str, arch: str) -> bool:
        return inputs.key(task, arch) in self.analysis


def _as_recorded(probe: dict, rng, extra: int = 2, wrong: float = 0.2) -> dict:
    """A random probe made more like a recorded one: padded ``extra`` positions past the
    longest test sequence on each side (the dataset's width; figures crop to the positions
    reached), and predictions that miss a ``wrong`` share of the target words (so that token
    and sequence accuracy differ)."""
    position_axes = {"enc_states": (1,), "enc_tokens": (1,), "dec_states": (1,), "dec_inputs": (1,), "targets": (1,),
                     "predictions": (1,), "align": (1,), "attention": (1, 2)}
    for key, axes in position_axes.items():
        if key in probe:
            probe[key] = np.pad(probe[key], [(0, extra if d in axes else 0) for d in range(probe[key].ndim)])
    targets, words = probe["targets"], len(probe["tgt_vocab"]) - len(SPECIALS)
    miss = (rng.random(targets.shape) < wrong) & (targets >= len(SPECIALS))
    another_word = len(SPECIALS) + (targets - len(SPECIALS) + 1) % words
    probe["predictions"] = np.where(miss, another_word, targets).astype(np.int32)
    return probe


def _model_outputs(make_probe, root: Path, task_names, seed0: int = 0):
    """Analysis outputs of ``task_names`` × every architecture × SEEDS from small random
    probes, laid out as the workflow lays them out: ({"task/arch": analysis.npz}, {table: runs})."""
    analysis, runs = {}, {name: [] for name in [*TABLE_COLUMNS, "accuracy", "training_log"]}
    specs = {**tasks.load_task_modules(), TOY.name: TOY}
    models = ((t, a, s) for t in task_names for a in ARCHITECTURES for s in SEEDS)
    for k, (task, arch, seed) in enumerate(models, start=seed0):
        probe = make_probe(n=48, s=10, t=9, units=UNITS, arch=arch, seed=k)
        if specs[task].alignment:
            probe["align"] = np.minimum(np.arange(9)[None], probe["enc_len"][:, None] - 1).astype(np.int32)
        probe = _as_recorded(probe, np.random.default_rng(k))
        run = {"task": task, "arch": arch, "seed": seed}
        probe["identity"] = np.array(json.dumps(run))
        tbls, arrays, _ = measure(probe, {f"I_{i}": f"O_{i}" for i in range(6)}, n_samples=4)
        d = root / "analysis" / task / arch / f"seed{seed}"
        paths = {name: str(d / f"{name}.csv") for name in TABLE_COLUMNS}
        save_analysis(tbls, arrays, d / "analysis.npz", paths)
        if seed == SEEDS[0]:
            analysis[inputs.key(task, arch)] = str(d / "analysis.npz")
        for name, path in paths.items():
            runs[name].append(dict(run, path=path))
        metrics = dict(run, test_seq_acc=0.5 + 0.02 * (k % 20), test_token_acc=0.95 - 0.01 * (k % 10),
                       steps=100 * (k + 1))
        if specs[task].corpus:  # a task with reference texts (translation) is scored by BLEU and chrF
            metrics.update(test_bleu=20.0 + k, test_bleu_detok=18.0 + k, test_chrf=40.0 + k)
        m = d / "metrics.json"
        m.write_text(json.dumps(metrics))
        runs["accuracy"].append(dict(run, path=str(m)))
        log = d / "train_log.csv"
        loss = np.linspace(2, 0.1, 5) * (1 + 0.05 * (k % 10))   # every model's curves its own
        pd.DataFrame({"epoch": range(5), "loss": loss, "step": np.arange(1, 6) * 50, "val_loss": 1.2 * loss,
                      "val_seq_acc": np.linspace(0, 1 - 0.01 * (k % 20), 5),
                      "val_token_acc": np.linspace(0.3, 1, 5)}).to_csv(log, index=False)
        runs["training_log"].append(dict(run, path=str(log)))
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
def results(tmp_path_factory, make_probe) -> Results:
    """Analysis outputs and aggregated tables of every registered task × architecture × seed."""
    root = tmp_path_factory.mktemp("results")
    analysis, runs = _model_outputs(make_probe, root, list(tasks.load_task_modules()))
    return Results(analysis, _aggregate(root, runs), runs)


@pytest.fixture(scope="module")
def left_out(tmp_path_factory, results) -> Results:
    """``results`` of a config that runs only the KEPT task × architecture: its model, and
    tables that hold its runs alone."""
    root = tmp_path_factory.mktemp("left_out")
    runs = {name: [r for r in rs if (r["task"], r["arch"]) == KEPT] for name, rs in results.runs.items()}
    return Results({inputs.key(*KEPT): results.analysis[inputs.key(*KEPT)]}, _aggregate(root, runs), runs)


@pytest.fixture(scope="module")
def toy_results(tmp_path_factory, make_probe, results) -> Results:
    """``results`` plus the toy task's models, in the tables too (built once)."""
    root = tmp_path_factory.mktemp("toy")
    toy_analysis, toy_runs = _model_outputs(make_probe, root, [TOY.name], seed0=100)
    runs = {name: results.runs[name] + toy_runs[name] for name in results.runs}
    return Results({**results.analysis, **toy_analysis}, _aggregate(root, runs), runs)


@pytest.fixture
def toy_task(request):
    """A sixth task, registered as a task module would register it, for one test."""
    assert TOY.name not in tasks.REGISTRY
    tasks.register(TOY)
    request.addfinalizer(lambda: tasks.REGISTRY.pop(TOY.name, None))
    return TOY


def _render(name: str, results: Results, out: Path | None = None):
    """Render one figure as the workflow does (the analyses of the (task, arch) pairs its
    FIGURE selects that the config runs, its tables, every seed's per-model tables of those
    pairs, its settings) and return the matplotlib figure it saved, still open, with the
    files it wrote: (figure, pdf, png). With no ``out``, no files: the figure is only laid
    out (every artist drawn without output, so one that cannot be drawn still fails), which
    is a fraction of the time."""
    figure = figures()[name]
    pairs = [(t, a) for t, a in figure.pairs() if inputs.key(t, a) in results.analysis]
    tables = {t: results.tables[t] for t in figure.tables}
    for t in figure.seed_tables:
        tables[t] = {f"{r['task']}/{r['arch']}/{r['seed']}": r["path"] for r in results.runs[t]
                     if (r["task"], r["arch"]) in pairs}
    pdf, png = (out / f"{name}.pdf", out / f"{name}.png") if out else ("unwritten.pdf", "unwritten.png")
    saved = []

    def keep(fig, pdf, png, save=style.save):
        saved.append(fig)
        if out:
            save(fig, pdf, png)
        else:
            fig.draw_without_rendering()
            style.plt.close(fig)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(style, "save", keep)
        importlib.import_module(f"attend.plotting.{name}").render(
            {inputs.key(t, a): results.analysis[inputs.key(t, a)] for t, a in pairs}, tables, str(pdf), str(png),
            {k: SETTINGS[k] for k in figure.settings})
    [fig] = saved
    return (fig, pdf, png) if out else (fig, None, None)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, results):
    """``rendered(name)``: that figure rendered from ``results`` (once per module), as
    (figure, pdf, png)."""
    out, cache = tmp_path_factory.mktemp("figures"), {}

    def get(name: str):
        if name not in cache:
            cache[name] = _render(name, results, out)
        return cache[name]

    return get


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
def test_figure_renders(name, rendered):
    _, pdf, png = rendered(name)
    assert pdf.read_bytes()[:4] == b"%PDF"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name", FIGURES)
def test_figure_renders_with_models_left_out(name, left_out, tmp_path):
    """A config with only one_to_one and AED still gets every figure (with empty panels)."""
    _, _, png = _render(name, left_out, tmp_path)
    assert png.stat().st_size > 1000


def test_fig09_shows_the_configured_units(rendered):
    fig, _, _ = rendered("fig09_architectures")
    assert f"n = {UNITS} units" in fig.get_suptitle()


@pytest.mark.parametrize("name", FIGURES)
def test_figure_renders_a_registered_sixth_task(name, toy_results, toy_task, tmp_path):
    """A task module's own task is drawn wherever its declaration selects it."""
    fig, _, png = _render(name, toy_results, tmp_path)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    texts = _texts(fig)
    if name == "fig04_ved":   # every task's VED: six variance groups, six accuracy curves
        assert len(figures()[name].pairs()) == 6
        variance, length = fig.axes[0], fig.axes[3]
        assert [t.get_text() for t in variance.get_xticklabels()][-1] == TOY.label
        assert len([t for t in variance.get_xticklabels() if t.get_text()]) == 6
        assert [line.get_color() for line in length.get_lines()][-1] == TOY.color
        assert len(length.get_lines()) == 6
    if name == "fig05_synthetic_tasks":   # two more columns: toy × AED, AO
        assert len(fig.axes) == 3 * 8
        assert f"{TOY.label}, AED" in texts and f"{TOY.label}, AO" in texts
    if name in ("fig06_summary", "fig10_training", "fig11_variants"):
        assert TOY.label in texts


def test_figures_never_import_tensorflow():
    code = ("import sys, attend.plotting.style\n"
            + "".join(f"import attend.plotting.{f}\n" for f in FIGURES)
            + "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'jax')]\n"
            + "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_fig11_draws_every_variants_claims_and_points(rendered, results):
    """A claim × variant grid (one cell per claim and variant, coloured by status, with its
    value), and one figure-6 panel per variant with a point per task × attention architecture."""
    fig, _, _ = rendered("fig11_variants")
    grid, *panels = fig.axes
    compared = read_table(results.tables["variant_claims"])
    assert [t.get_text() for t in grid.get_xticklabels()] == ["base", "shifted"]
    assert [t.get_text() for t in grid.get_yticklabels()] == ["F1", "F2", "F3", "F4", "F5"]
    cells = [p for p in grid.patches if p.get_width() == 1]
    assert len(cells) == len(compared) == 10
    colours = {tuple(np.round(p.get_facecolor()[:3], 3)) for p in cells}
    assert colours == {tuple(np.round(to_rgb(STATUS_COLORS[s]), 3)) for s in compared["status"]}
    value = compared.set_index(["variant", "claim"]).loc[("shifted", "F1"), "value"]
    assert any(t.startswith(f"{value:.2f}") for t in _texts(grid))
    assert [ax.get_title() for ax in panels] == ["base", "shifted"]
    shares = read_table(results.tables["variant_shares"])
    for ax, variant in zip(panels, ["base", "shifted"]):   # two seeds: each point has error bars
        assert len(ax.containers) == (shares["variant"] == variant).sum() == 5 * 2   # tasks × (AED, AO)
