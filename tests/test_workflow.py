"""The workflow itself: config validation (dry runs) and the smoke config end to end."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "data" / "fra-eng" / "fra.txt"
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def workdir(tmp_path: Path) -> Path:
    """A scratch copy of the workflow (the package is imported from the install)."""
    for item in ("Snakefile", "workflow", "config"):
        src = REPO / item
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / item)
    (tmp_path / "src").symlink_to(REPO / "src")
    paths = tmp_path / "paths.yaml"
    paths.write_text(f"data:\n  translation:\n    corpus:\n      search: ['{CORPUS}']\n")
    return tmp_path


def snakemake(cwd, *args, check=False):
    return subprocess.run([*SNAKEMAKE, *args], cwd=cwd, capture_output=True, text=True, check=check)


@pytest.mark.parametrize(
    "override, named",
    [
        ("tasks: [one_to_one, bogus]", "tasks.1: 'bogus' is not one of"),
        ("architectures: [aed, transformer]", "architectures.1: 'transformer' is not one of"),
        ("train: {max_stepz: 5}", "train: Additional properties are not allowed ('max_stepz' was unexpected)"),
        ("train: {max_steps: -3}", "train.max_steps: -3 is less than the minimum of 1"),
        ("model: {units: many}", "model.units: 'many' is not of type 'integer'"),
    ],
)
def test_bad_config_fails_before_any_job_naming_the_key(tmp_path, override, named):
    cwd = workdir(tmp_path)
    (cwd / "bad.yaml").write_text(override + "\n")
    result = snakemake(cwd, "-n", "--cores", "1", "--configfile", "bad.yaml")
    assert result.returncode != 0
    assert named in result.stdout + result.stderr
    assert not (cwd / "results").exists()


def test_missing_key_is_named(tmp_path):
    cwd = workdir(tmp_path)
    config = (cwd / "config" / "config.yaml").read_text().replace("  clipnorm: 1.0\n", "")
    (cwd / "config" / "config.yaml").write_text(config)
    result = snakemake(cwd, "-n", "--cores", "1")
    assert result.returncode != 0
    assert "train: 'clipnorm' is a required property" in result.stdout + result.stderr


def test_one_figure_plans_only_its_ancestors(tmp_path):
    cwd = workdir(tmp_path)
    result = snakemake(cwd, "-n", "--cores", "1", "figures/fig03_one_to_one_ao.pdf", "--quiet", "rules")
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "fig03_one_to_one_ao" in out and "fig02_one_to_one_aed" not in out
    # one dataset, one model: one_to_one with AO only
    assert all(f" {rule} " in out or f"{rule}  " in out for rule in ("dataset", "train", "probe", "measure"))
    assert "translation" not in out and "corpus" not in out


@pytest.mark.slow
@pytest.mark.skipif(not CORPUS.exists(), reason=f"the translation corpus is not at {CORPUS}")
def test_smoke_workflow_end_to_end(tmp_path):
    cwd = workdir(tmp_path)
    args = ["--cores", "2", "--configfile", "config/smoke.yaml", "paths.yaml"]
    first = snakemake(cwd, *args)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-6000:]
    for n in range(1, 11):
        figs = list((cwd / "figures").glob(f"fig{n:02d}_*"))
        assert {f.suffix for f in figs} == {".pdf", ".png"}, f"figure {n}: {figs}"
    claims = (cwd / "results" / "tables" / "claims.csv").read_text()
    assert all(f"F{i}" in claims for i in range(1, 6))
    again = snakemake(cwd, "-n", *args)
    assert again.returncode == 0
    assert "Nothing to be done" in again.stdout + again.stderr

    # Determinism: regenerate one dataset and one model from scratch and compare.
    res = cwd / "results"
    data = res / "data" / "one_to_one" / "seed0" / "dataset.npz"
    analysis = res / "analysis" / "one_to_one" / "aed" / "seed0"
    before = {p.name: p.read_bytes() for p in [data, *analysis.glob("*.csv")]}
    metrics = json.loads((res / "models" / "one_to_one" / "aed" / "seed0" / "metrics.json").read_text())
    for sub in ("data/one_to_one", "models/one_to_one", "probes/one_to_one", "analysis/one_to_one"):
        shutil.rmtree(res / sub)
    target = str((analysis / "analysis.npz").relative_to(cwd))
    redo = snakemake(cwd, *args, "--", target)  # "--": the target is not another config file
    assert redo.returncode == 0, redo.stderr[-3000:]
    after = {p.name: p.read_bytes() for p in [data, *analysis.glob("*.csv")]}
    assert after.keys() == before.keys()
    for name in before:
        assert after[name] == before[name], f"{name} differs between two runs of the same config"
    metrics_again = json.loads((res / "models" / "one_to_one" / "aed" / "seed0" / "metrics.json").read_text())
    for key in ("test_token_acc", "test_seq_acc", "steps"):
        assert metrics_again[key] == metrics[key]
