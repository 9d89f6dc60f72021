"""Every figure renders from saved arrays and tables alone, without TensorFlow, including
when the config leaves some of its tasks or architectures out, and when a task module
registers a task of its own; and each draws what its inputs say: its panels and their
titles, the arrays its heatmaps show, the table values its bars, lines and points stand for.

The inputs are small random probes measured as the workflow measures them, two seeds per
task × architecture, so that seed means and standard deviations differ from any one model's
values; the Transformer's probes are of the layers form (LAYERS layers of HEADS heads), so
its tables have rows per (layer, head) unit and per layer. Each figure's check (``CHECKS``)
derives what should be drawn from those inputs and from the task and architecture
declarations, and expects a placeholder panel, saying why, wherever the config has no model
(or a model no layer) to draw."""

import dataclasses
import importlib
import json
import re
import subprocess
import sys
from collections import Counter
from html import unescape
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from gold_links import with_gold_links
from matplotlib.collections import PathCollection
from matplotlib.colors import to_hex, to_rgb
from matplotlib.container import BarContainer, ErrorbarContainer
from matplotlib.image import AxesImage

from attend import gold_alignment, tasks
from attend import tables as agg
from attend.analysis.alignment import POSSIBLE, SURE
from attend.analysis.alignment import gold_alignment as gold_measure
from attend.analysis.decompose import COMPONENTS
from attend.analysis.measure import measure
from attend.architectures import ARCHITECTURES
from attend.artifacts import file_digest, load_analysis, read_table, save_analysis
from attend.claims import CHECKS as CLAIM_CHECKS
from attend.claims import PAPER_ATTENTION_ARCHS, claims, f4_points, spearman
from attend.plotting import captions, figures, inputs, style
from attend.plotting.fig04_ved import PCA_TASK
from attend.plotting.fig06_summary import X_METRICS
from attend.plotting.fig07_escan_translation import CORRECT, N_WORDS, NO_DICT, WRONG
from attend.plotting.fig08_escan_mechanism import MAX_WORDS, MIN_SHARE
from attend.plotting.fig10_training import BLEU_COLUMNS
from attend.plotting.fig11_variants import STATUS_COLORS
from attend.plotting.fig12_transformer import ARCH, SAMPLE_TASKS, row_label
from attend.plotting.fig13_gold_alignment import COLUMNS as FIG13_COLUMNS
from attend.plotting.fig13_gold_alignment import SENTENCE_READINGS
from attend.plotting.panels import NOT_WORDS
from attend.plotting.style import TERM_COLORS, TERM_LABELS
from attend.table_layout import GOLD_TABLE_COLUMNS, TABLE_COLUMNS, whole_model
from attend.tokens import SPECIALS
from attend.variant_comparison import COMPARISON_TABLES, variant_claims, variant_shares

REPO = Path(__file__).resolve().parents[1]
FIGURES = list(figures())
UNITS = 12  # the probes' hidden size, which fig09 shows as model.units
SETTINGS = {"model.units": UNITS}  # a value for every key a FIGURE's settings may name
SEEDS = (0, 1)  # seeds of every model; figures draw the first seed's model, as the workflow does
TOY = dataclasses.replace(
    tasks.load_task_modules()["one_to_one"], name="toy_copy", label="toy copy", color="#000000", marker="X"
)
KEPT = ("one_to_one", "aed")  # the one model of a config that leaves the others out
LAYERS, HEADS = 2, 2  # a Transformer's probe (the architecture that reads model.layers): its units


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


def _layers(task: str) -> int:
    """Cross-attention layers of a Transformer's probe: LAYERS, and one more for the toy
    task's, so that with it registered figure 12 has a layer's columns that the other
    tasks' Transformers leave empty."""
    return LAYERS + (task == TOY.name)


def _in_layers(probe: dict, rng, layers: int, heads: int = HEADS) -> dict:
    """``probe`` (one head) turned into the probe's ``layers`` form, as a Transformer's
    cross-attention: layer l's queries read the decoder states through a random map of its
    own, each (layer, head) scores with random query and key matrices of d_h = units / heads
    over the encoder states, and ``attention`` is the units' uniform mean."""
    dec, enc = probe["dec_states"], probe["enc_states"]
    units = dec.shape[-1]
    d_h = units // heads
    layer_states = np.einsum("ntm,lmk->nltk", dec, rng.normal(size=(layers, units, units)) / np.sqrt(units))
    w_q, w_k = (rng.normal(size=(layers, heads, units, d_h)) / np.sqrt(units) for _ in range(2))
    scale = 1 / np.sqrt(d_h)
    scores = np.einsum("nltm,lhmd,nsk,lhkd->nlhts", layer_states, w_q, enc, w_k) * scale
    enc_mask = np.arange(enc.shape[1])[None] < probe["enc_len"][:, None]
    dec_mask = np.arange(dec.shape[1])[None] < probe["dec_len"][:, None]
    scores = np.where(enc_mask[:, None, None, None], scores, -np.inf)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    weights = weights / weights.sum(-1, keepdims=True) * dec_mask[:, None, None, :, None]
    probe = {k: v for k, v in probe.items() if k not in ("W_q", "W_k")}
    probe.update(
        layer_states=layer_states.astype(np.float32),
        layer_W_q=w_q.astype(np.float32),
        layer_W_k=w_k.astype(np.float32),
        layer_attention=weights.astype(np.float32),
        attention=weights.mean((1, 2)).astype(np.float32),
        scale=np.float32(scale),
        layers=np.array(layers, dtype=np.int32),
        heads=np.array(heads, dtype=np.int32),
        attention_kind=np.array("multihead"),
    )
    return probe


def _as_recorded(probe: dict, rng, extra: int = 2, wrong: float = 0.2) -> dict:
    """A random probe made more like a recorded one: padded ``extra`` positions past the
    longest test sequence on each side (the dataset's width; figures crop to the positions
    reached), and predictions that miss a ``wrong`` share of the target words (so that token
    and sequence accuracy differ)."""
    position_axes = {
        "enc_states": (1,),
        "enc_tokens": (1,),
        "dec_states": (1,),
        "dec_inputs": (1,),
        "targets": (1,),
        "predictions": (1,),
        "align": (1,),
        "attention": (1, 2),
        "layer_states": (2,),
        "layer_attention": (3, 4),
    }
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
    analysis, runs = {}, {name: [] for name in [*TABLE_COLUMNS, *GOLD_TABLE_COLUMNS, "accuracy", "training_log"]}
    specs = {**tasks.load_task_modules(), TOY.name: TOY}
    models = ((t, a, s) for t in task_names for a in ARCHITECTURES for s in SEEDS)
    for k, (task, arch, seed) in enumerate(models, start=seed0):
        probe = make_probe(n=48, s=10, t=9, units=UNITS, arch=arch, seed=k)
        if "layers" not in ARCHITECTURES[arch].ignores:  # the Transformer: layers of heads
            probe = _in_layers(probe, np.random.default_rng(k), _layers(task))
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
        if gold_alignment.applies(task, arch):  # its gold probe: this probe with gold links
            table, gold_arrays = gold_measure(with_gold_links(probe, seed=k), max_len=6)
            gold_paths = {name: str(d / agg.GOLD_FOLDER / f"{name}.csv") for name in GOLD_TABLE_COLUMNS}
            save_analysis({"gold_alignment": table}, gold_arrays, d / agg.GOLD_FOLDER / "analysis.npz", gold_paths)
            for name, path in gold_paths.items():
                runs[name].append(dict(run, path=path))
        log = d / "train_log.csv"
        loss = np.linspace(2, 0.1, 5) * (1 + 0.05 * (k % 10))  # every model's curves its own
        pd.DataFrame(
            {
                "epoch": range(5),
                "loss": loss,
                "step": np.arange(1, 6) * 50,
                "val_loss": 1.2 * loss,
                "val_seq_acc": np.linspace(0, 1 - 0.01 * (k % 20), 5),
                "val_token_acc": np.linspace(0.3, 1, 5),
            }
        ).to_csv(log, index=False)
        runs["training_log"].append(dict(run, path=str(log)))
        metrics = dict(
            run,
            test_seq_acc=0.5 + 0.02 * (k % 20),
            test_token_acc=0.95 - 0.01 * (k % 10),
            steps=100 * (k + 1),
            train_log_sha256=file_digest(log),
        )
        if specs[task].corpus:  # a task with reference texts (translation) is scored by BLEU and chrF
            metrics.update(test_bleu=20.0 + k, test_bleu_detok=18.0 + k, test_chrf=40.0 + k)
        m = d / "metrics.json"
        m.write_text(json.dumps(metrics))
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
        "variant_claims": variant_claims(
            {
                v: claims(
                    frames["accuracy"], frames["approximation"], s, frames["dictionary"], frames["gold_alignment"]
                )
                for v, s in variants.items()
            }
        ),
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
        tables[t] = {
            f"{r['task']}/{r['arch']}/{r['seed']}": r["path"]
            for r in results.runs[t]
            if (r["task"], r["arch"]) in pairs
        }
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
            {inputs.key(t, a): results.analysis[inputs.key(t, a)] for t, a in pairs},
            tables,
            str(pdf),
            str(png),
            {k: SETTINGS[k] for k in figure.settings},
        )
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


# ------------------------------------------------------------------ reading a drawn figure


def _texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")) if t.get_text()]


def _panels(fig) -> list:
    """The figure's panels in the order they were added, colorbars left out."""
    return [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]


def _placeholder(ax) -> str | None:
    """What a placeholder panel (style.placeholder) says; None for a panel that draws data."""
    said = [t.get_text() for t in ax.texts if t.get_transform() is ax.transAxes and t.get_position() == (0.5, 0.5)]
    return said[0] if said else None


def _placeholders(fig) -> Counter:
    return Counter(p for p in map(_placeholder, _panels(fig)) if p is not None)


def _assert_placeholder(ax, says: str) -> None:
    assert _placeholder(ax) == says
    assert not ax.images and not ax.lines and not ax.patches and not ax.collections


def _not_in_config(task: str, arch: str) -> str:
    return f"{style.pair_label(task, arch, ' / ')} not in this config"


def _image(ax) -> np.ndarray:
    [image] = [im for im in ax.images if isinstance(im, AxesImage)]
    return np.asarray(image.get_array())


def _labels(ticks) -> list[str]:
    return [t.get_text() for t in ticks]


def _bar_containers(ax) -> list[BarContainer]:
    return [c for c in ax.containers if isinstance(c, BarContainer)]


def _error_sizes(errorbar: ErrorbarContainer) -> list[np.ndarray]:
    """Half the length of each error bar (the ± it draws), per direction drawn (x first)."""
    return [
        np.array([np.abs(np.diff(s, axis=0)).max() / 2 for s in lines.get_segments()]) for lines in errorbar.lines[2]
    ]


def _error_centres(errorbar: ErrorbarContainer) -> np.ndarray:
    """Where each error bar is centred (the value it is drawn about)."""
    return np.array([np.mean(s, axis=0) for s in errorbar.lines[2][0].get_segments()])


def _close(drawn, expected) -> None:
    np.testing.assert_allclose(np.asarray(drawn, float), np.asarray(expected, float), rtol=1e-6, atol=1e-9)


def _tokens(vocab, ids, n: int) -> list[str]:
    return [str(vocab[i]) for i in np.asarray(ids)[:n]]


# ----------------------------------------------------------------- what should be drawn


def _seed_shares(results: Results, task: str, arch: str) -> pd.DataFrame:
    """Each term's share of |score| over all decoder steps: mean and sd over the seeds,
    from the aggregated table (the figures read the seeds' own CSVs)."""
    df = whole_model(results.table("term_shares"))
    df = df[(df["task"] == task) & (df["arch"] == arch) & (df["step"] == -1)]
    assert df["seed"].nunique() == len(SEEDS)
    return df.groupby("term")["share"].agg(["mean", "std"]).loc[list(TERM_COLORS)]


def _seed_shares_by_step(results: Results, task: str, arch: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mean and sd over seeds of each term's share per decoder step (steps × terms)."""
    df = whole_model(results.table("term_shares"))
    df = df[(df["task"] == task) & (df["arch"] == arch) & (df["step"] >= 0)]
    by = df.groupby(["step", "term"])["share"].agg(["mean", "std"])
    return by["mean"].unstack("term")[list(TERM_COLORS)], by["std"].unstack("term")[list(TERM_COLORS)]


def _reached(count) -> int:
    """Number of leading positions that some test sequence reaches."""
    return int(np.flatnonzero(np.asarray(count) > 0)[-1]) + 1


def _pca(a: dict, side: str) -> tuple[np.ndarray, np.ndarray]:
    """The sampled states of one side and its temporal trajectory μ_t (positions reached),
    in the side's first two PCA coordinates."""
    mu = (a[f"{side}_mu"][a[f"{side}_step_count"] > 0] - a[f"{side}_pca_mean"]) @ a[f"{side}_pca_basis"].T
    return a[f"{side}_points"][:, :2], mu[:, :2]


def _assert_pca_panel(ax, a: dict, side: str) -> None:
    """The sampled states as points and μ_t as a line, in PCA coordinates."""
    points, mu = _pca(a, side)
    assert any(c.get_offsets().shape == points.shape and np.allclose(c.get_offsets(), points) for c in ax.collections)
    assert any(len(line.get_xdata()) == len(mu) and np.allclose(line.get_xydata(), mu) for line in ax.lines)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("PC1", "PC2")


def _assert_sample_attention(ax, a: dict) -> None:
    """The first sample's attention, cropped to its lengths, labelled with its words."""
    dec_len, enc_len = int(a["sample_dec_len"][0]), int(a["sample_enc_len"][0])
    _close(_image(ax), a["sample_attention"][0][:dec_len, :enc_len])
    assert _labels(ax.get_xticklabels()) == _tokens(a["src_vocab"], a["sample_enc_tokens"][0], enc_len)
    assert _labels(ax.get_yticklabels()) == _tokens(a["tgt_vocab"], a["sample_targets"][0], dec_len)


def _assert_share_bars(ax, shares: pd.DataFrame, labelled: bool = True) -> None:
    """Horizontal bars of the nine terms' seed-mean shares, ± one sd over seeds, in [0, 1]."""
    [bars] = _bar_containers(ax)
    _close([b.get_width() for b in bars], shares["mean"])
    [sizes] = _error_sizes(bars.errorbar)
    _close(sizes, shares["std"])
    assert ax.get_xlim() == (0, 1)
    if labelled:
        assert _labels(ax.get_yticklabels()) == [TERM_LABELS[t] for t in TERM_COLORS]


# --------------------------------------------------------------- each figure's check
# check(fig, results): what the figure rendered from ``results`` must show.


def fig01_shows_a_sample_attention_and_both_sides_states(fig, results: Results) -> None:
    """(a) the first sample's attention matrix, (b, c) encoder and decoder states and μ_t in
    PCA coordinates, of the one model the figure selects (else three placeholders)."""
    [(task, arch)] = figures()["fig01_overview"].pairs()
    attention, enc, dec = _panels(fig)
    assert attention.get_title().startswith("attention of one test sequence")
    assert enc.get_title().startswith("encoder hidden states") and dec.get_title().startswith("decoder hidden states")
    if not results.has(task, arch):
        for ax in (attention, enc, dec):
            _assert_placeholder(ax, _not_in_config(task, arch))
        return
    a = results.arrays(task, arch)
    _assert_sample_attention(attention, a)
    _assert_pca_panel(enc, a, "enc")
    _assert_pca_panel(dec, a, "dec")


def mechanism_of_its_model_and_seed_mean_shares_by_step(name: str):
    """Figures 2 and 3 (panels.one_task_mechanism): (a) both sides' μ_t in PCA coordinates,
    (b) softmax(μ·μ) and Ā cropped to the positions reached, (c) the value-path clusters,
    (d) the nine terms' seed-mean shares per decoder step, stacked, with the μ·μ share's
    sd over seeds as error bars, in [0, 1]."""

    def check(fig, results: Results) -> None:
        [(task, arch)] = figures()[name].pairs()
        enc, dec, temporal, mean, values, shares = _panels(fig)
        assert "temporal-only attention" in temporal.get_title() and "mean attention" in mean.get_title()
        assert "shares of the nine score terms" in shares.get_title()
        if not results.has(task, arch):
            for ax in (enc, dec, temporal, mean, values, shares):
                _assert_placeholder(ax, _not_in_config(task, arch))
            return
        assert fig.get_suptitle().endswith(f"panels a–c: seed {SEEDS[0]}")
        a = results.arrays(task, arch)
        _assert_pca_panel(enc, a, "enc")
        _assert_pca_panel(dec, a, "dec")
        T, S = _reached(a["dec_step_count"]), _reached(a["enc_step_count"])
        _close(_image(temporal), a["temporal_attention"][:T, :S])
        _close(_image(mean), a["mean_attention"][:T, :S])
        assert values.collections and _placeholder(values) is None
        means, sds = _seed_shares_by_step(results, task, arch)
        bars = _bar_containers(shares)
        assert len(bars) == len(TERM_COLORS)
        bottom = np.zeros(len(means))
        for stack, term in zip(bars, TERM_COLORS):
            _close([b.get_height() for b in stack], means[term])
            _close([b.get_y() for b in stack], bottom)
            assert to_hex(stack[0].get_facecolor()) == to_hex(TERM_COLORS[term])
            bottom += means[term].to_numpy()
        [spread] = [c for c in shares.containers if isinstance(c, ErrorbarContainer)]
        _close(_error_centres(spread)[:, 1], means["mu·mu"])  # on top of the μ·μ bar
        _close(_error_sizes(spread)[0], sds["mu·mu"])
        assert _labels(shares.get_xticklabels()) == [str(s) for s in means.index]
        assert shares.get_ylim() == (0, 1)
        assert f"mean of {len(SEEDS)} seeds ± 1 sd" in shares.get_title()
        assert _labels(shares.get_legend().get_texts()) == [TERM_LABELS[t] for t in TERM_COLORS]

    return check


def fig04_shows_every_veds_variance_accuracy_by_length_and_states(fig, results: Results) -> None:
    """(a, b) per VED task (registry order), bars of the state variance that μ, χ and Δ
    carry on each side; (c, f) one_to_one's VED states in PCA coordinates; (d, e) a line of
    sequence and token accuracy against input length per task."""
    veds = [t for t, a in figures()["fig04_ved"].pairs() if results.has(t, a)]
    enc_var, dec_var, enc_pca, seq_acc, token_acc, dec_pca = _panels(fig)
    for ax, side in ((enc_var, "encoder"), (dec_var, "decoder")):
        assert ax.get_title() == f"VED {side}: variance carried by μ, χ, Δ"
        if not veds:
            _assert_placeholder(ax, "no VED model in this config")
            continue
        assert _labels(ax.get_xticklabels()) == [style.task_label(t) for t in veds]
        assert ax.get_ylim() == (0, 1.08)
        for bars, component in zip(_bar_containers(ax), COMPONENTS, strict=True):
            expected = []
            for task in veds:
                v = results.model_table(task, "ved", "variance")
                expected.append(v[(v["side"] == side) & (v["component"] == component)]["fraction"].item())
            _close([b.get_height() for b in bars], expected)
    for ax, column in ((seq_acc, "seq_acc"), (token_acc, "token_acc")):
        if not veds:
            _assert_placeholder(ax, "no VED model in this config")
            continue
        assert [line.get_label() for line in ax.lines] == [style.task_label(t) for t in veds]
        for line, task in zip(ax.lines, veds):
            by_length = results.model_table(task, "ved", "accuracy_by_length").sort_values("length")
            _close(line.get_xdata(), by_length["length"])
            _close(line.get_ydata(), by_length[column])
            assert to_hex(line.get_color()) == to_hex(style.task_color(task))
    for ax, side in ((enc_pca, "enc"), (dec_pca, "dec")):
        assert ax.get_title().startswith(f"{style.task_label(PCA_TASK)} VED")
        if results.has(PCA_TASK, "ved"):
            _assert_pca_panel(ax, results.arrays(PCA_TASK, "ved"), side)
        else:
            _assert_placeholder(ax, _not_in_config(PCA_TASK, "ved"))


def fig05_columns_show_each_models_attention_and_seed_mean_shares(fig, results: Results) -> None:
    """A column per synthetic task × attention architecture, headed by its label: Ā cropped
    to the positions reached, the first sample's attention, and the nine terms' seed-mean
    shares ± sd (placeholders for a model the config does not run)."""
    pairs = figures()["fig05_synthetic_tasks"].pairs()
    grid = np.array(_panels(fig)).reshape(3, len(pairs))
    for j, (task, arch) in enumerate(pairs):
        top, sample, shares = grid[:, j]
        assert style.pair_label(task, arch) in _labels(top.texts)
        if not results.has(task, arch):
            for ax in grid[:, j]:
                _assert_placeholder(ax, "not in this config")
            continue
        a = results.arrays(task, arch)
        T, S = _reached(a["dec_step_count"]), _reached(a["enc_step_count"])
        _close(_image(top), a["mean_attention"][:T, :S])
        _assert_sample_attention(sample, a)
        assert f"(seed {SEEDS[0]})" in sample.get_title()
        expected = _seed_shares(results, task, arch)
        _assert_share_bars(shares, expected, labelled=j == 0)
        assert shares.get_title().startswith(f"μ·μ share {expected.loc['mu·mu', 'mean']:.2f} ± ")


def fig06_draws_every_seeds_f4_point_and_each_models_seed_mean(fig, results: Results) -> None:
    """Per metric (argmax agreement, TV distance), claim F4's points (attend.claims.f4_points:
    one per task × the paper's attention architecture × seed, at (metric, μ·μ share)), and per task ×
    architecture a marker at the seed mean ± sd, in its architecture's colour and its task's
    marker; Spearman ρ and n in the title; shares in [0, 1.02]."""
    approx, shares = results.table("approximation"), results.table("term_shares")
    attending = {(r["task"], r["arch"]) for r in results.runs["term_shares"] if r["arch"] in PAPER_ATTENTION_ARCHS}
    panels = _panels(fig)
    assert len(panels) == len(X_METRICS)
    for ax, metric in zip(panels, X_METRICS):
        points = f4_points(approx, shares, metric)
        assert len(points) == len(attending) * len(SEEDS)
        seeds = np.concatenate([c.get_offsets() for c in ax.collections if isinstance(c, PathCollection)])
        expected = points[["value", "share"]].to_numpy(float)
        assert sorted(map(tuple, np.round(seeds, 9))) == sorted(map(tuple, np.round(expected, 9)))
        means = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
        groups = list(points.groupby(["task", "arch"], sort=False))
        assert len(means) == len(groups) == len(attending)
        for errorbar, ((task, arch), g) in zip(means, groups):
            line = errorbar.lines[0]
            _close(line.get_xydata()[0], [g["value"].mean(), g["share"].mean()])
            _close(np.concatenate(_error_sizes(errorbar)), [g["value"].std(), g["share"].std()])
            assert to_hex(line.get_color()) == to_hex(style.arch_color(arch))
            assert line.get_marker() == style.task_marker(task)
        assert f"Spearman ρ = {spearman(points['value'], points['share']):.2f}" in ax.get_title()
        assert f"n = {len(points)} models, {points['task'].nunique()} tasks, {len(SEEDS)} seeds" in ax.get_title()
        assert ax.get_ylim() == (0, 1.02)
        if metric == "argmax_agreement":
            assert ax.get_xlim() == (0, 1.02)


def fig07_columns_show_each_models_attention_shares_word_variance_and_readout(fig, results: Results) -> None:
    """A column per eSCAN / translation × attention architecture, headed by its label: (a)
    the first sample's attention, (b) the nine terms' seed-mean shares ± sd, (c) each
    frequent input word's encoder-state variance before and after removing μ_t, (d) each
    word's readout cosine, coloured by whether its readout is its translation."""
    pairs = figures()["fig07_escan_translation"].pairs()
    grid = np.array(_panels(fig)).reshape(4, len(pairs))
    for j, (task, arch) in enumerate(pairs):
        sample, shares, variance, readout = grid[:, j]
        assert style.pair_label(task, arch) in _labels(sample.texts)
        if not results.has(task, arch):
            for ax in grid[:, j]:
                _assert_placeholder(ax, "not in this config")
            continue
        a = results.arrays(task, arch)
        _assert_sample_attention(sample, a)
        assert f"test sequence {int(a['sample_index'][0]) + 1} (seed {SEEDS[0]})" in sample.get_title()
        _assert_share_bars(shares, _seed_shares(results, task, arch), labelled=j == 0)
        words = results.model_table(task, arch, "word_variance")
        words = words[(words["side"] == "encoder") & ~words["word"].astype(str).isin(NOT_WORDS)]
        assert len(words) <= N_WORDS  # so every word is drawn
        words = words.set_index(words["word"].astype(str))
        drawn = _labels(variance.get_xticklabels())
        assert sorted(drawn) == sorted(words.index)
        before, after = _bar_containers(variance)
        _close([b.get_height() for b in before], words.loc[drawn, "variance"])
        _close([b.get_height() for b in after], words.loc[drawn, "variance_without_mu"])
        dictionary = results.model_table(task, arch, "dictionary")
        assert len(dictionary) <= N_WORDS
        dictionary = dictionary.set_index(dictionary["word"].astype(str))
        drawn = [label.split(" → ")[0] for label in _labels(readout.get_yticklabels())]
        assert sorted(drawn) == sorted(dictionary.index)
        [bars] = _bar_containers(readout)
        _close([b.get_width() for b in bars], dictionary.loc[drawn, "cosine"])
        correct = pd.to_numeric(dictionary.loc[drawn, "correct"], errors="coerce")
        colours = [NO_DICT if pd.isna(ok) else CORRECT if ok else WRONG for ok in correct]
        assert [to_hex(b.get_facecolor()) for b in bars] == [to_hex(c) for c in colours]


def fig08_rows_show_each_models_offsets_and_attention_by_word(fig, results: Results) -> None:
    """A row per eSCAN × attention architecture, named by its label: (a) the data's,
    attended and temporal-only mean offsets against decoder step (steps reached by at least
    MIN_SHARE of the sequences; values off the scale drawn at its edge and printed), (b) the
    mean attention around the attended position per word (heatmap = word_attention.csv),
    (c) the same rows as lines, floored at 1e-3."""
    pairs = figures()["fig08_escan_mechanism"].pairs()
    grid = np.array(_panels(fig)).reshape(len(pairs), 3)
    assert [t for t in _labels(fig.texts) if t in {style.pair_label(*p) for p in pairs}] == [
        style.pair_label(*p) for p in pairs
    ]
    for (task, arch), (offsets, heatmap, lines) in zip(pairs, grid):
        if not results.has(task, arch):
            for ax in (offsets, heatmap, lines):
                _assert_placeholder(ax, _not_in_config(task, arch))
            continue
        df = results.model_table(task, arch, "alignment_offsets").sort_values("step")
        df = df[df["n"] >= MIN_SHARE * df["n"].max()]
        series = [line for line in offsets.lines if not line.get_label().startswith("_")]
        assert len(series) == 3
        low, high = offsets.get_ylim()
        for line, column in zip(series, ["data_offset", "attended_offset", "temporal_offset"]):
            _close(line.get_xdata(), df["step"])
            drawn, value = np.asarray(line.get_ydata(), float), df[column].to_numpy(float)
            if column == "data_offset":
                _close(drawn, value)  # the scale is the data's
            off = ~np.isclose(drawn, value)  # drawn at the edge of the scale, and printed
            assert ((drawn >= low) & (drawn <= high)).all()
            centre = (low + high) / 2
            assert (np.abs(value[off] - centre) > np.abs(drawn[off] - centre)).all()
            assert {f"{v:.0f}" for v in value[off]} <= set(_labels(offsets.texts))
        table = results.model_table(task, arch, "word_attention")
        table = table.assign(word=table["word"].astype(str))
        offsets_drawn = sorted(table["offset"].unique())
        assert _labels(heatmap.get_xticklabels()) == [f"{o:+d}" if o else "0 (attended)" for o in offsets_drawn]
        labels = _labels(heatmap.get_yticklabels())
        words = [label.split("  (n=")[0] for label in labels]
        assert table["word"].nunique() <= MAX_WORDS and sorted(words) == sorted(table["word"].unique())  # every word
        assert "</s>" not in words or words[-1] == "</s>"
        matrix = table.pivot_table(index="word", columns="offset", values="attention", aggfunc="first")
        expected = matrix.loc[words, offsets_drawn].to_numpy(float)
        _close(_image(heatmap), expected)
        counts = table.groupby("word")["n"].first()
        assert labels == [f"{w}  (n={counts[w]})" for w in words]
        drawn_lines = [line for line in lines.lines if len(line.get_xdata()) == len(offsets_drawn)]
        assert len(drawn_lines) == len(words)
        for line, row in zip(drawn_lines, expected):
            _close(line.get_xdata(), offsets_drawn)
            _close(line.get_ydata(), np.maximum(row, 1e-3))
        assert lines.get_yscale() == "log"


def fig09_draws_each_architectures_diagram_and_the_configured_units(fig, results: Results) -> None:
    """A diagram per paper's architecture, in declaration order, titled with its label in its
    colour, with an attention block exactly where it attends; n = model.units in the title."""
    paper = [a for a in ARCHITECTURES.values() if a.paper]  # not the Transformer (docs/transformer.md)
    panels = _panels(fig)
    assert len(panels) == len(paper)
    for ax, arch in zip(panels, paper):
        assert ax.get_title().startswith(f"{arch.label} — ")
        assert to_hex(ax.title.get_color()) == to_hex(arch.color)
        assert ("attention (one head)" in _labels(ax.texts)) == arch.attention
        assert ax.patches  # the blocks
    assert f"n = {UNITS} units" in fig.get_suptitle()


def _lines_of(ax) -> list[tuple]:
    return sorted(
        (
            to_hex(line.get_color()),
            line.get_linestyle(),
            tuple(np.round(line.get_xdata(), 9)),
            tuple(np.round(line.get_ydata(), 9)),
        )
        for line in ax.lines
    )


def _bars_by_group(ax) -> dict[tuple[str, str], tuple[float, float]]:
    """{(x tick label, colour): (height, error size)} of a grouped bar panel."""
    ticks = dict(zip(ax.get_xticks(), _labels(ax.get_xticklabels())))
    out = {}
    for bars in _bar_containers(ax):
        sizes = _error_sizes(bars.errorbar)[0] if bars.errorbar else [np.nan] * len(bars)
        for bar, size in zip(bars, sizes):
            tick = min(ticks, key=lambda x: abs(x - (bar.get_x() + bar.get_width() / 2)))
            out[(ticks[tick], to_hex(bar.get_facecolor()))] = (bar.get_height(), size)
    return out


def fig10_draws_every_runs_curves_and_the_seed_mean_test_scores(fig, results: Results) -> None:
    """A column per task of the tables (registry order), titled with its label: every run's
    validation sequence (—) and token (--) accuracy, training (—) and validation (···) loss
    against step, in its architecture's colour; bars of each task × architecture's seed-mean
    test sequence and token accuracy ± sd; translation's BLEU and chrF, seed means."""
    log, acc = results.table("training_log"), results.table("accuracy")
    task_names = style.ordered(set(log["task"]) | set(acc["task"]), style.task_names())
    panels = _panels(fig)
    assert len(panels) == 2 * len(task_names) + 3
    for j, task in enumerate(task_names):
        accuracy, loss = panels[2 * j], panels[2 * j + 1]
        assert accuracy.get_title() == style.task_label(task)
        expected_acc, expected_loss = [], []
        for (arch, _), g in log[log["task"] == task].groupby(["arch", "seed"]):
            g, c = g.sort_values("step"), to_hex(style.arch_color(arch))
            for into, column, ls in (
                (expected_acc, "val_seq_acc", "-"),
                (expected_acc, "val_token_acc", "--"),
                (expected_loss, "loss", "-"),
                (expected_loss, "val_loss", ":"),
            ):
                into.append((c, ls, tuple(np.round(g["step"], 9)), tuple(np.round(g[column], 9))))
        assert _lines_of(accuracy) == sorted(expected_acc)
        assert _lines_of(loss) == sorted(expected_loss)
        assert accuracy.get_ylim() == (-0.02, 1.02)
    seq_acc, token_acc, bleu = panels[-3:]
    for ax, column in ((seq_acc, "test_seq_acc"), (token_acc, "test_token_acc")):
        expected = {}
        for (task, arch), g in acc.groupby(["task", "arch"]):
            expected[(style.task_label(task), to_hex(style.arch_color(arch)))] = (g[column].mean(), g[column].std())
        drawn = _bars_by_group(ax)
        assert drawn.keys() == expected.keys()
        _close([drawn[k] for k in expected], [expected[k] for k in expected])
        assert _labels(ax.get_xticklabels()) == [style.task_label(t) for t in task_names]
    scored = acc.dropna(subset=["test_bleu"]) if "test_bleu" in acc else acc.iloc[:0]
    if scored.empty:
        _assert_placeholder(bleu, "no BLEU (no translation in this config)")
        return
    assert _labels(bleu.get_xticklabels()) == list(BLEU_COLUMNS.values())
    drawn = {key: height for key, (height, _) in _bars_by_group(bleu).items()}
    expected = {
        (label, to_hex(style.arch_color(arch))): g[column].mean()
        for column, label in BLEU_COLUMNS.items()
        for arch, g in scored.groupby("arch")
    }
    assert drawn.keys() == expected.keys()
    _close([drawn[k] for k in expected], [expected[k] for k in expected])


def fig11_draws_every_variants_claims_and_points(fig, results: Results) -> None:
    """A claim × variant grid (one cell per claim and variant, coloured by status, with its
    value), and one figure-6 panel per variant with a marker per task × the paper's
    attention architecture at its seed means (variant_shares), in [0, 1.02]."""
    grid, *panels = _panels(fig)
    compared = results.table("variant_claims")
    variants = list(dict.fromkeys(compared["variant"]))
    assert variants == ["base", "shifted"]
    assert _labels(grid.get_xticklabels()) == variants
    assert _labels(grid.get_yticklabels()) == list(CLAIM_CHECKS)  # F1–F6
    cells = [p for p in grid.patches if p.get_width() == 1]
    assert len(cells) == len(compared) == len(variants) * len(CLAIM_CHECKS)
    colours = {tuple(np.round(p.get_facecolor()[:3], 3)) for p in cells}
    assert colours == {tuple(np.round(to_rgb(STATUS_COLORS[s]), 3)) for s in compared["status"]}
    value = compared.set_index(["variant", "claim"]).loc[("shifted", "F1"), "value"]
    assert any(t.startswith(f"{value:.2f}") for t in _texts(grid))
    assert [ax.get_title() for ax in panels] == variants
    shares = results.table("variant_shares")
    attending = {(r["task"], r["arch"]) for r in results.runs["term_shares"] if r["arch"] in PAPER_ATTENTION_ARCHS}
    for ax, variant in zip(panels, variants):
        rows = shares[shares["variant"] == variant]
        markers = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
        assert len(markers) == len(rows) == len(attending)  # tasks × (AED, AO)
        _close([c.lines[0].get_xydata()[0] for c in markers], rows[["argmax_agreement_mean", "mu_mu_share_mean"]])
        _close([np.concatenate(_error_sizes(c)) for c in markers], rows[["argmax_agreement_sd", "mu_mu_share_sd"]])
        assert ax.get_xlim() == ax.get_ylim() == (0, 1.02)


def _unit_order(a: dict) -> list[tuple[int, int]]:
    """A Transformer's (layer, head) rows of term_shares, as figure 12 should draw them:
    its units (analysis.npz's unit_layer, unit_head) layer by layer, then each layer's mean
    over its heads (several layers), then the model as a whole (-1, -1)."""
    units = sorted(zip(a["unit_layer"].tolist(), a["unit_head"].tolist()))
    layers = sorted(set(a["unit_layer"].tolist()))
    return units + ([(layer, -1) for layer in layers] if len(layers) > 1 else []) + [(-1, -1)]


def _layer_views(a: dict) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, the first sample's attention, Ā) of a Transformer as a whole, then of each of
    its layers (the mean over the layer's heads' own weights and Ā)."""
    views = [("whole model", a["sample_attention"][0], a["mean_attention"])]
    for layer in sorted(set(a["unit_layer"].tolist())):
        of_layer = a["unit_layer"] == layer
        views.append(
            (
                f"layer {layer}",
                a["unit_sample_attention"][0][of_layer].mean(0),
                a["unit_mean_attention"][of_layer].mean(0),
            )
        )
    return views


def fig12_draws_each_transformers_shares_by_unit_and_attention_by_layer(fig, results: Results) -> None:
    """Top, a panel per task (registry order), titled with its label: the seed-mean overall
    share of each of the nine terms (columns) for every (layer, head) unit of its
    Transformer, each layer's mean and the model as a whole (rows, named; the whole model
    set apart by a line). Below, a row per SAMPLE_TASK: the first sample's attention
    (cropped to its lengths, labelled with its words) beside Ā (cropped to the positions
    reached) for the whole model and each layer; columns enough for the Transformer of most
    layers, the others' left as placeholders."""
    pairs = figures()["fig12_transformer"].pairs()
    drawn = [(t, a) for t, a in pairs if results.has(t, a)]
    sample_tasks = [t for t in SAMPLE_TASKS if t in style.task_names()]
    columns = 2 * (1 + max([len(set(results.arrays(*p)["unit_layer"].tolist())) for p in drawn] or [0]))
    panels = _panels(fig)
    assert len(panels) == len(pairs) + columns * len(sample_tasks)
    top, bottom = panels[: len(pairs)], np.array(panels[len(pairs) :]).reshape(len(sample_tasks), columns)
    shares = results.table("term_shares")
    for ax, (task, arch) in zip(top, pairs):
        assert ax.get_title() == style.task_label(task)
        if not results.has(task, arch):
            _assert_placeholder(ax, "not in this config")
            continue
        rows = shares[(shares["task"] == task) & (shares["arch"] == arch) & (shares["step"] == -1)]
        assert rows["seed"].nunique() == len(SEEDS)
        order = _unit_order(results.arrays(task, arch))
        assert set(map(tuple, rows[["layer", "head"]].to_numpy().tolist())) == set(order)  # every row is drawn
        means = rows.groupby(["layer", "head", "term"])["share"].mean()
        _close(_image(ax), [[means[(layer, head, term)] for term in TERM_COLORS] for layer, head in order])
        labels = _labels(ax.get_yticklabels())
        assert labels == [row_label(*unit) for unit in order] and len(set(labels)) == len(labels)
        assert _labels(ax.get_xticklabels()) == [TERM_LABELS[t] for t in TERM_COLORS]
        assert len(ax.texts) == len(order) * len(TERM_COLORS)  # every share printed
        [line] = ax.lines
        _close(line.get_ydata(), [len(order) - 1.5] * 2)  # above the whole model
        assert f"({len(SEEDS)} seeds)" in ax.get_xlabel()
    for row, task in zip(bottom, sample_tasks):
        label = style.task_label(task)
        if not results.has(task, ARCH):
            for ax in row:
                _assert_placeholder(ax, f"{label}: not in this config")
            continue
        assert label in _labels(row[0].texts)
        a = results.arrays(task, ARCH)
        views = _layer_views(a)
        T, S = _reached(a["dec_step_count"]), _reached(a["enc_step_count"])
        dec_len, enc_len = int(a["sample_dec_len"][0]), int(a["sample_enc_len"][0])
        for (name, sample, mean), example, average in zip(views, row[0::2], row[1::2]):
            assert example.get_title().split(":")[0] == average.get_title().split(":")[0] == name
            _close(_image(example), sample[:dec_len, :enc_len])
            assert _labels(example.get_xticklabels()) == _tokens(a["src_vocab"], a["sample_enc_tokens"][0], enc_len)
            assert _labels(example.get_yticklabels()) == _tokens(a["tgt_vocab"], a["sample_targets"][0], dec_len)
            _close(_image(average), mean[:T, :S])
        for ax in row[2 * len(views) :]:
            _assert_placeholder(ax, "no such layer")


def _gold_rows(table: pd.DataFrame, task: str, arch: str, reading: str) -> pd.DataFrame:
    """A model's gold_alignment rows (every seed) that figure 13 reads: 'predicts', all pairs."""
    return table[
        (table["task"] == task)
        & (table["arch"] == arch)
        & (table["convention"] == "predicts")
        & (table["length_bin"] == "all")
        & (table["reading"] == reading)
    ]


def _sorted_points(xy) -> np.ndarray:
    xy = np.asarray(xy, float).reshape(-1, 2)
    return xy[np.lexsort(xy.T[::-1])]


def fig13_draws_each_models_units_and_one_gold_sentence(fig, results: Results) -> None:
    """A row per translation model with attention (registry order): every seed's units as
    points (AER of the attention against the μ·μ share; a model of one head is its whole
    model), each seed's whole model as a star, the diagonal's AER as a line; then the first
    seed's drawn gold sentence under the attention, the temporal-only attention and the
    attention without μ·μ ('predicts' rows), with its tokens and its sure and possible
    links as markers."""
    pairs = figures()["fig13_gold_alignment"].pairs()
    assert pairs and all(task == "translation" for task, _ in pairs)
    rows = np.array(_panels(fig)).reshape(len(pairs), FIG13_COLUMNS)
    table = results.table("gold_alignment")
    for row, (task, arch) in zip(rows, pairs):
        if not results.has(task, arch):
            for ax in row:
                _assert_placeholder(ax, _not_in_config(task, arch))
            continue
        attention = _gold_rows(table, task, arch, "attention")
        assert attention["seed"].nunique() == len(SEEDS)
        units = attention[(attention["layer"] >= 0) & (attention["head"] >= 0)]
        whole = attention[(attention["layer"] == -1) & (attention["head"] == -1)]
        if "layers" in ARCHITECTURES[arch].ignores:  # one head: the model is its one unit
            assert units.empty
            units = whole
        points, stars = row[0].collections
        _close(_sorted_points(points.get_offsets()), _sorted_points(units[["mu_mu_share", "aer"]]))
        _close(_sorted_points(stars.get_offsets()), _sorted_points(whole[["mu_mu_share", "aer"]]))
        assert len(whole) == len(SEEDS)
        [diagonal] = row[0].lines
        _close(diagonal.get_ydata(), [_gold_rows(table, task, arch, "diagonal").query("layer == -1")["aer"].mean()] * 2)
        assert style.pair_label(task, arch) in row[0].get_title()
        first = next(r for r in results.runs["gold_alignment"] if (r["task"], r["arch"], r["seed"]) == (task, arch, 0))
        a = dict(np.load(Path(first["path"]).with_name("analysis.npz")))
        src = _tokens(a["src_vocab"], a["gold_sentence_enc_tokens"], len(a["gold_sentence_enc_tokens"]))
        tgt = _tokens(a["tgt_vocab"], a["gold_sentence_target_words"], len(a["gold_sentence_target_words"]))
        for ax, reading in zip(row[1:], SENTENCE_READINGS):
            _close(_image(ax), a[f"gold_sentence_{reading}"][0])  # 'predicts', the first convention
            assert _labels(ax.get_xticklabels()) == src and _labels(ax.get_yticklabels()) == tgt
            sure, possible = ax.collections
            for marks, value in ((sure, SURE), (possible, POSSIBLE)):
                t, s_ = np.nonzero(a["gold_sentence_links"] == value)
                _close(_sorted_points(marks.get_offsets()), _sorted_points(np.stack([s_, t], 1)))
            assert f"pair {int(a['gold_sentence'])}" in ax.get_title() and "seed 0" in ax.get_title()


CHECKS = {
    "fig01_overview": fig01_shows_a_sample_attention_and_both_sides_states,
    "fig02_one_to_one_aed": mechanism_of_its_model_and_seed_mean_shares_by_step("fig02_one_to_one_aed"),
    "fig03_one_to_one_ao": mechanism_of_its_model_and_seed_mean_shares_by_step("fig03_one_to_one_ao"),
    "fig04_ved": fig04_shows_every_veds_variance_accuracy_by_length_and_states,
    "fig05_synthetic_tasks": fig05_columns_show_each_models_attention_and_seed_mean_shares,
    "fig06_summary": fig06_draws_every_seeds_f4_point_and_each_models_seed_mean,
    "fig07_escan_translation": fig07_columns_show_each_models_attention_shares_word_variance_and_readout,
    "fig08_escan_mechanism": fig08_rows_show_each_models_offsets_and_attention_by_word,
    "fig09_architectures": fig09_draws_each_architectures_diagram_and_the_configured_units,
    "fig10_training": fig10_draws_every_runs_curves_and_the_seed_mean_test_scores,
    "fig11_variants": fig11_draws_every_variants_claims_and_points,
    "fig12_transformer": fig12_draws_each_transformers_shares_by_unit_and_attention_by_layer,
    "fig13_gold_alignment": fig13_draws_each_models_units_and_one_gold_sentence,
}


# ------------------------------------------------------------------------------ tests


def test_every_figure_has_a_module():
    assert (
        FIGURES
        == sorted(p.stem for p in (REPO / "src/attend/plotting").glob("fig*.py"))
        == [
            "fig01_overview",
            "fig02_one_to_one_aed",
            "fig03_one_to_one_ao",
            "fig04_ved",
            "fig05_synthetic_tasks",
            "fig06_summary",
            "fig07_escan_translation",
            "fig08_escan_mechanism",
            "fig09_architectures",
            "fig10_training",
            "fig11_variants",
            "fig12_transformer",
            "fig13_gold_alignment",
        ]
    )
    assert list(CHECKS) == FIGURES  # and a check of what each draws


@pytest.mark.parametrize("name", FIGURES)
def test_every_figure_is_declared_with_its_captions(name):
    figure = figures()[name]
    module = importlib.import_module(f"attend.plotting.{name}")
    assert module.FIGURE is figure
    assert figure.title and figure.description, f"{name}: its FIGURE declares no title or description"
    assert figure.caption and "\n" not in figure.caption and "\n" not in figure.title
    assert set(figure.findings) <= set(CLAIM_CHECKS), f"{name}: findings {figure.findings} are not all claims"
    assert set(figure.tables) <= {*TABLE_COLUMNS, "accuracy", "training_log", *COMPARISON_TABLES}


def test_figure_numbers_come_from_the_module_names():
    assert [captions.number(name) for name in FIGURES] == list(range(1, len(FIGURES) + 1))
    with pytest.raises(ValueError, match="figNN_<slug>"):
        captions.number("figure_summary")


def snakemake_report_caption(template: Path, params: dict) -> str:
    """The HTML Snakemake's report makes of the caption file ``template`` for an output of a
    rule with ``params``: its own FileRecord.render, on a stand-in for the job's record (the
    Jinja environment as snakemake.report.auto_report makes it)."""
    from jinja2 import Environment
    from snakemake.iocontainers import InputFiles, Log, OutputFiles, Params, ResourceList, Wildcards
    from snakemake.report import FileRecord

    rule = SimpleNamespace(name="figure", module_globals={"config": {}})
    job = SimpleNamespace(
        input=InputFiles(),
        output=OutputFiles(),
        params=Params(fromdict=params),
        threads=1,
        resources=ResourceList(),
        log=Log(),
        rule=rule,
    )
    record = SimpleNamespace(
        raw_caption=template,
        job=job,
        raw_wildcards=Wildcards(),
        workflow=SimpleNamespace(sourcecache=SimpleNamespace(open=open)),
    )
    FileRecord.render(record, Environment(trim_blocks=True, lstrip_blocks=True), "", {}, {})
    return record.caption


@pytest.mark.parametrize("name", FIGURES)
@pytest.mark.filterwarnings('ignore:Argument "writer_name":PendingDeprecationWarning')  # Snakemake's own call
def test_the_report_caption_is_the_declarations(name):
    """workflow/report/figure.rst, rendered as Snakemake renders it for a figure rule (whose
    `caption` param is report_caption), shows the declaration's title and description, and
    the reStructuredText is clean (no docutils warnings or errors in the page)."""
    figure = figures()[name]
    html = snakemake_report_caption(REPO / "workflow/report/figure.rst", {"caption": captions.report_caption(name)})
    assert "system-message" not in html, html
    text = " ".join(unescape(re.sub(r"<[^>]+>", "", html)).split())
    assert text.startswith(f"Figure {captions.number(name)} — {figure.title} ({captions.origin(figure)}).")
    assert " ".join(figure.description.replace("``", "").split()) in text


@pytest.mark.slow
def test_the_workflow_report_shows_each_declared_caption(workflow):
    """`snakemake --report` of the smoke workflow (its jobs pretend-run) captions each
    figure with exactly its declaration's report caption, as docutils renders it."""
    from docutils.core import publish_parts

    workflow.pretend_run("--configfile", "config/smoke.yaml", "paths.yaml")
    result = workflow.run("--cores", "1", "--configfile", "config/smoke.yaml", "paths.yaml", "--report", "report.html")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    page = (workflow.root / "report.html").read_text()
    shown = {
        path: json.loads(f'"{caption}"')
        for path, caption in re.findall(r'"(figures/fig\w+\.png)": \{.*?"caption": "((?:[^"\\]|\\.)*)"', page)
    }
    assert set(shown) == {f"figures/{name}.png" for name in FIGURES}
    for name in FIGURES:
        assert shown[f"figures/{name}.png"] == publish_parts(captions.report_caption(name), writer="html")["body"]


def test_the_drawn_title_is_numbered_as_declared(rendered):
    """The figure's own title keeps its drawn words; its number is the module's."""
    for name in FIGURES:
        fig, _, _ = rendered(name)
        assert fig.get_suptitle().startswith(f"Figure {captions.number(name)} — "), name


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
    assert pairs["fig12_transformer"] == [(t, "tfm") for t in ("one_to_one", "reverse", "sort", "escan", "translation")]
    assert pairs["fig13_gold_alignment"] == [("translation", a) for a in ("aed", "ao", "tfm")]


@pytest.mark.parametrize("name", FIGURES)
def test_figure_renders(name, rendered):
    _, pdf, png = rendered(name)
    assert pdf.read_bytes()[:4] == b"%PDF"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name", FIGURES)
def test_figure_draws_what_its_inputs_say(name, rendered, results):
    """Panels, titles, heatmaps, bars, lines and points as CHECKS[name] derives them."""
    fig, _, _ = rendered(name)
    CHECKS[name](fig, results)
    assert not _placeholders(fig)  # every model is in this config


# What each figure's empty panels say when the config runs the KEPT model alone.
LEFT_OUT = {
    "fig01_overview": {},
    "fig02_one_to_one_aed": {},
    "fig03_one_to_one_ao": {_not_in_config("one_to_one", "ao"): 6},
    "fig04_ved": {"no VED model in this config": 4, _not_in_config("one_to_one", "ved"): 2},
    "fig05_synthetic_tasks": {"not in this config": 3 * (len(figures()["fig05_synthetic_tasks"].pairs()) - 1)},
    "fig06_summary": {},
    "fig07_escan_translation": {"not in this config": 4 * len(figures()["fig07_escan_translation"].pairs())},
    "fig08_escan_mechanism": {_not_in_config("escan", "aed"): 3, _not_in_config("escan", "ao"): 3},
    "fig09_architectures": {},
    "fig10_training": {"no BLEU (no translation in this config)": 1},
    "fig11_variants": {},
    "fig12_transformer": {
        "not in this config": len(figures()["fig12_transformer"].pairs()),  # every share panel
        # every attention row, two columns (the whole model's; no model has layers)
        **{f"{style.task_label(t)}: not in this config": 2 for t in SAMPLE_TASKS},
    },
    "fig13_gold_alignment": {_not_in_config(t, a): FIG13_COLUMNS for t, a in figures()["fig13_gold_alignment"].pairs()},
}


@pytest.mark.parametrize("name", FIGURES)
def test_figure_renders_with_models_left_out(name, left_out):
    """A config with only one_to_one and AED still gets every figure: the panels of the
    models it does not run are placeholders that say so, the others draw what they draw
    with every model (its one model's arrays, tables of its runs alone)."""
    fig, _, _ = _render(name, left_out)
    assert _placeholders(fig) == Counter(LEFT_OUT[name])
    CHECKS[name](fig, left_out)


def test_fig09_shows_the_configured_units(rendered):
    fig, _, _ = rendered("fig09_architectures")
    assert f"n = {UNITS} units" in fig.get_suptitle()


@pytest.mark.parametrize("name", FIGURES)
def test_figure_renders_a_registered_sixth_task(name, toy_results, toy_task):
    """A task module's own task is drawn wherever its declaration selects it. (Laid out
    without writing files, as with models left out: test_figure_renders writes them.)"""
    fig, _, _ = _render(name, toy_results)
    CHECKS[name](fig, toy_results)
    texts = _texts(fig)
    if name == "fig04_ved":  # every task's VED: six variance groups, six accuracy curves
        assert len(figures()[name].pairs()) == 6
        variance, length = fig.axes[0], fig.axes[3]
        assert [t.get_text() for t in variance.get_xticklabels()][-1] == TOY.label
        assert len([t for t in variance.get_xticklabels() if t.get_text()]) == 6
        assert [line.get_color() for line in length.get_lines()][-1] == TOY.color
        assert len(length.get_lines()) == 6
    if name == "fig05_synthetic_tasks":  # two more columns: toy × AED, AO
        assert len(fig.axes) == 3 * 8
        assert f"{TOY.label}, AED" in texts and f"{TOY.label}, AO" in texts
    if name in ("fig06_summary", "fig10_training", "fig11_variants"):
        assert TOY.label in texts
    if name == "fig12_transformer":  # a share panel of its own; its Transformer's one more layer adds
        assert len(figures()[name].pairs()) == 6 and TOY.label in texts  # two columns, which the
        assert _placeholders(fig) == Counter({"no such layer": 2 * len(SAMPLE_TASKS)})  # others leave empty


def test_figures_never_import_tensorflow():
    code = (
        "import sys, attend.plotting.style\n"
        + "".join(f"import attend.plotting.{f}\n" for f in FIGURES)
        + "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'jax')]\n"
        + "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
