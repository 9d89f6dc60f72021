"""The smoke workflow end to end on Keras's JAX backend, in an environment without TensorFlow.

`make test` builds that environment (`.venv-jax`, from envs/requirements-jax.txt) before
running pytest; the workflow runs with that environment's Python and `backend: jax`, which
the workflow exports to every job as KERAS_BACKEND.
"""

import contextlib
import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
VENV_JAX = REPO / ".venv-jax"
JAX_PYTHON = VENV_JAX / "bin" / "python"
TIMEOUT_S = 1800  # a hung run must not eat CI's time; the smoke run takes minutes


def jax_python() -> Path:
    """The JAX environment's interpreter. `make test` (what CI runs) builds it and sets
    ATTEND_REQUIRE_JAX=1, so there a missing environment is an error; a plain pytest run
    without it skips, saying how to build it."""
    if not (JAX_PYTHON.exists() and (VENV_JAX / ".ready").exists()):
        message = f"the JAX environment {VENV_JAX} is missing or incomplete: `make test` builds it"
        if os.environ.get("ATTEND_REQUIRE_JAX") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return JAX_PYTHON


def scratch_workflow(tmp_path: Path) -> Path:
    """A scratch copy of the workflow (the package is imported from the environment's install).
    envs/ comes too: Snakemake records the rules' `conda:` files in its metadata."""
    for item in ("Snakefile", "workflow", "profiles", "config", "envs"):
        src = REPO / item
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / item)
    (tmp_path / "src").symlink_to(REPO / "src")
    # Every architecture (and the smoke config's multihead variant) on the JAX backend, on
    # one task: the steps that run Keras (training, the probe) differ by backend, what the
    # TensorFlow smoke run covers besides (other tasks, the figures) is numpy and matplotlib.
    (tmp_path / "jax.yaml").write_text("backend: jax\ntasks: [one_to_one]\n")
    return tmp_path


def jax_env() -> dict:
    env = dict(os.environ, KERAS_BACKEND="jax")
    env["PATH"] = f"{JAX_PYTHON.parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("VIRTUAL_ENV", None)
    return env


def kill_group(proc: subprocess.Popen) -> None:
    """End the run and every job it started (they share its process group)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def run_snakemake(python: Path, args: list[str], cwd: Path, env: dict) -> tuple[int, str, str]:
    """Snakemake in its own process group, so that a timeout also ends the jobs it started."""
    proc = subprocess.Popen(
        [python, "-m", "snakemake", *args],
        cwd=cwd,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        out, err = proc.communicate()
        pytest.fail(f"the JAX smoke run took over {TIMEOUT_S} s\n{out[-3000:]}{err[-6000:]}")
    except BaseException:  # e.g. Ctrl-C, which no longer reaches the run's own process group
        kill_group(proc)
        raise
    return proc.returncode, out, err


@pytest.mark.slow
def test_smoke_workflow_on_jax_without_tensorflow(tmp_path):
    python = jax_python()
    env = jax_env()

    no_tf = subprocess.run([python, "-c", "import tensorflow"], capture_output=True, text=True, env=env)
    assert no_tf.returncode != 0 and "No module named 'tensorflow'" in no_tf.stderr, (
        f"TensorFlow is importable in {VENV_JAX}: the JAX run would not prove it TensorFlow-free"
    )

    cwd = scratch_workflow(tmp_path)
    # The claims of base and of the variant: every model, probe, measurement and table before them.
    claims = ["results/claims.md", "results/variants/multihead/claims.md"]
    args = ["--cores", "2", "--configfile", "config/smoke.yaml", "jax.yaml", "--", *claims]
    code, out, err = run_snakemake(python, args, cwd, env)
    assert code == 0, out[-3000:] + err[-6000:]
    assert all((cwd / c).is_file() for c in claims) and (cwd / "results" / "tables" / "claims.csv").is_file()

    metrics = sorted((cwd / "results").rglob("models/*/*/seed0/metrics.json"))
    assert len(metrics) == 4 + 2, "one_to_one's four architectures and the variant's AED and AO"
    backends = {str(p.relative_to(cwd)): json.loads(p.read_text()).get("backend") for p in metrics}
    assert set(backends.values()) == {"jax"}, backends
