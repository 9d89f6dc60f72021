"""Shared test fixtures: constructed probes, scratch copies of the workflow to run
Snakemake in, and the rule that keeps the quick tier quick.

Tests come in two tiers (docs/operations.md, Tests): every test that launches Snakemake or trains a
model carries the ``slow`` marker, and ``pytest -m "not slow"`` runs the rest in about two
minutes. The marker is enforced, not remembered: an unmarked test that trains (calls
``keras.Model.fit``) or asks for a workflow fails and says to mark it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from attend.tokens import EOS, SOS, SPECIALS

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "data" / "fra-eng" / "fra.txt"
GOLD = REPO.parent / "shared" / "data" / "alignment"  # the human word alignments (data.gold_alignment)


def _softmax_masked(scores, mask):
    z = np.where(mask, scores, -np.inf)
    z = np.exp(z - z.max(-1, keepdims=True))
    return z / z.sum(-1, keepdims=True)


def random_probe(n=64, s=12, t=12, units=16, arch="aed", seed=0, vocab=6, noise=0.3, attention=None) -> dict:
    """A probe with the layout of ``attend.probe`` whose states are μ_t + χ(w) + noise and
    whose attention is the softmax of the states' own scores."""
    rng = np.random.default_rng(seed)
    n_src = n_tgt = len(SPECIALS) + vocab
    enc_len = rng.integers(s // 2, s + 1, size=n)
    dec_len = rng.integers(t // 2, t + 1, size=n)
    enc_mask = np.arange(s)[None] < enc_len[:, None]
    dec_mask = np.arange(t)[None] < dec_len[:, None]
    enc_tokens = rng.integers(len(SPECIALS), n_src, size=(n, s))
    enc_tokens[np.arange(n), enc_len - 1] = EOS
    enc_tokens[~enc_mask] = 0
    targets = rng.integers(len(SPECIALS), n_tgt, size=(n, t))
    targets[np.arange(n), dec_len - 1] = EOS
    targets[~dec_mask] = 0
    dec_inputs = np.concatenate([np.full((n, 1), SOS), targets[:, :-1]], axis=1) * dec_mask

    def states(tokens, width, mask, vocab_size):
        mu = rng.normal(size=(width, units))
        chi = rng.normal(size=(vocab_size, units))
        h = mu[None] + chi[tokens] + noise * rng.normal(size=(n, width, units))
        return (h * mask[..., None]).astype(np.float32)

    enc_h = states(enc_tokens, s, enc_mask, n_src)
    dec_h = states(dec_inputs, t, dec_mask, n_tgt)
    w_q, w_k, w_v = (
        (rng.normal(size=(units, units)) / np.sqrt(units)).astype(np.float32) for _ in range(3)
    )  # as a probe stores them
    scale = np.float32(1 / np.sqrt(units))
    probe = {
        "enc_states": enc_h,
        "dec_states": dec_h,
        "enc_tokens": enc_tokens.astype(np.int32),
        "dec_inputs": dec_inputs.astype(np.int32),
        "targets": targets.astype(np.int32),
        "predictions": targets.astype(np.int32),
        "enc_len": enc_len.astype(np.int32),
        "dec_len": dec_len.astype(np.int32),
        "arch": np.array(arch),
        "src_vocab": np.array(SPECIALS + [f"I_{i}" for i in range(vocab)]),
        "tgt_vocab": np.array(SPECIALS + [f"O_{i}" for i in range(vocab)]),
        "format_version": np.array(1, dtype=np.int32),
    }
    if arch != "ved":
        scores = (dec_h @ w_q) @ np.swapaxes(enc_h @ w_k, 1, 2) * scale
        a = _softmax_masked(scores, enc_mask[:, None, :]) if attention is None else attention
        probe.update(
            attention=(a * dec_mask[..., None]).astype(np.float32),
            W_q=w_q,
            W_k=w_k,
            W_v=w_v,
            scale=scale,
            attention_kind=np.array("learned"),
            W_c=rng.normal(size=(units, n_tgt)).astype(np.float32),
        )
    return probe


SLOW = (
    "slow: this test {what}, so it belongs to the slow tier: mark it @pytest.mark.slow "
    "(pytest -m 'not slow' is the quick tier)"
)


def _require_slow(request, what: str) -> None:
    if request.node.get_closest_marker("slow") is None:
        pytest.fail(SLOW.format(what=what), pytrace=False)


def pytest_collection_modifyitems(config, items):
    """The smoke workflow runs first (TensorFlow, then JAX: the longest tests, each on two
    cores), then the rest of the slow tier, then the quick tier (a stable sort). Under
    `pytest -n` (as `make test` runs) the first worker starts the smoke run at once and the
    others work through the rest around it, instead of the longest test starting last."""
    items.sort(
        key=lambda item: (
            not item.name.startswith("test_smoke_workflow"),
            "jax" in item.name,
            item.get_closest_marker("slow") is None,
        )
    )


@pytest.fixture(autouse=True)
def _quick_tests_do_not_train(request, monkeypatch):
    """A test without the ``slow`` marker may build and run models, not train them."""
    keras = sys.modules.get("keras")
    if keras is None or request.node.get_closest_marker("slow") is not None:
        return

    def fit(*args, **kwargs):
        _require_slow(request, "trains a model")

    monkeypatch.setattr(keras.Model, "fit", fit)


@pytest.fixture(scope="session")
def make_probe():
    """``make_probe(n=..., arch=..., ...)``: a probe whose states are μ_t + χ(w) + noise."""
    return random_probe


@pytest.fixture
def corpus() -> Path:
    """The shared translation corpus; tests that need it are skipped (saying why) without it."""
    if not CORPUS.exists():
        pytest.skip(f"the translation corpus is not at {CORPUS}")
    return CORPUS


class Workflow:
    """A scratch copy of the workflow: Snakefile, workflow/, profiles/, config/, envs/ and src/ (so that
    editing a module in the copy is seen by the copy alone: its src comes first on
    PYTHONPATH), with the shared corpus and gold word alignments found through ``paths.yaml``."""

    def __init__(self, root: Path, extra_pythonpath: list[Path] = ()):
        self.root = root
        for item in ("Snakefile", "workflow", "profiles", "config", "envs", "src"):
            src = REPO / item
            if src.is_dir():
                shutil.copytree(src, root / item, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
            else:
                shutil.copy(src, root / item)
        (root / "paths.yaml").write_text(
            f"data:\n  translation:\n    corpus:\n      search: ['{CORPUS}']\n  gold_alignment:\n    search: ['{GOLD}']\n"
        )
        self.env = dict(
            os.environ,
            PYTHONPATH=os.pathsep.join(
                [str(root / "src"), *map(str, extra_pythonpath), os.environ.get("PYTHONPATH", "")]
            ).rstrip(os.pathsep),
        )

    def copy(self, dest: Path) -> Workflow:
        """A copy of this scratch workflow, its results and Snakemake's metadata included,
        with every modification time kept (as `cp -a`): seconds, where a run is minutes."""
        shutil.copytree(self.root, dest, symlinks=True)
        clone = object.__new__(Workflow)
        clone.root = dest
        clone.env = dict(self.env, PYTHONPATH=self.env["PYTHONPATH"].replace(str(self.root), str(dest), 1))
        return clone

    def run(self, *args, env=None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "snakemake", *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            env={**self.env, **(env or {})},
        )

    def planned(self, *args) -> dict[str, int]:
        """Rule -> number of jobs a dry run plans (``-n --quiet rules``), leaving out the
        target rule ``all``; targets go after a ``"--"`` in ``args``."""
        options, _, targets = list(args), None, []
        if "--" in options:
            at = options.index("--")
            options, targets = options[:at], options[at + 1 :]
        result = self.run("-n", "--cores", "1", *options, "--quiet", "rules", "--", *targets)
        out = result.stdout + result.stderr
        assert result.returncode == 0, out[-3000:]
        jobs = {}
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1].isdigit() and parts[0] not in ("total", "job", "all"):
                jobs[parts[0]] = int(parts[1])
        return jobs

    def outputs(self, *args) -> dict[str, str]:
        """Every output file a dry run plans, and the rule that makes it (``--summary``)."""
        result = self.run("-n", "--cores", "1", *args, "--summary")
        assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
        rows = [line.split("\t") for line in result.stdout.splitlines()[1:] if "\t" in line]
        return {row[0]: row[2] for row in rows}

    def pretend_run(self, *args) -> None:
        """Mark every planned job as run, with empty outputs, recording each job's params
        and code as a real run would (``--touch --forceall``): a later dry run then plans
        exactly the jobs whose parameters, inputs or code changed. Seconds, not minutes."""
        for path in self.outputs(*args):
            (self.root / path).parent.mkdir(parents=True, exist_ok=True)
            (self.root / path).touch()
        result = self.run("--cores", "1", *args, "--touch", "--forceall", "--quiet")
        assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]


@pytest.fixture
def workflow(request, tmp_path) -> Workflow:
    _require_slow(request, "launches Snakemake")
    return Workflow(tmp_path)


@pytest.fixture(scope="module")
def pretended(request, tmp_path_factory) -> Workflow:
    """One scratch workflow per test module with the smoke config pretend-run
    (:meth:`Workflow.pretend_run`); tests change :meth:`Workflow.copy` copies of it."""
    _require_slow(request, "launches Snakemake")
    workflow = Workflow(tmp_path_factory.mktemp("pretended"))
    workflow.pretend_run("--configfile", "config/smoke.yaml", "paths.yaml")
    return workflow


@pytest.fixture
def make_workflow(request, tmp_path_factory):
    """``make_workflow(extra_pythonpath=[...])``: a fresh scratch copy of the workflow."""
    _require_slow(request, "launches Snakemake")
    return lambda extra_pythonpath=(): Workflow(tmp_path_factory.mktemp("workflow"), extra_pythonpath)
