"""A training job killed midway resumes from its last checkpoint, not from scratch, and
ends where an uninterrupted run ends."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

keras = pytest.importorskip("keras")

from attend.gpu import backend_environment  # noqa: E402

# Every test here trains a model (tests/conftest.py): the slow tier.
pytestmark = pytest.mark.slow

DRIVER = r"""
import json, sys, time
import keras
from attend import training
from attend.config import defaults
from attend.tasks import build_dataset

out = sys.argv[1]
slow = len(sys.argv) > 2
cfg = {"sizes": {"train": 256, "valid": 32, "test": 32},
       "one_to_one": {"vocab_size": 6, "min_len": 3, "max_len": 6}}
arrays, vocab = build_dataset("one_to_one", cfg, 0)
training.set_determinism(0, 1)
model_cfg = {**defaults("model"), "units": 8}
train_cfg = {**defaults("train"), "batch_size": 16, "learning_rate": 1e-2, "eval_every": 10, "n_eval": 32,
             "target_accuracy": 2.0, "max_steps": 80}
execution = {**defaults("execution"), "steps_per_execution": 5}

class Slow(keras.callbacks.Callback):  # gives the test time to kill the job mid-run
    def on_epoch_end(self, epoch, logs=None):
        time.sleep(0.4)

training.train("aed", arrays, vocab, model_cfg, train_cfg, execution, 0, model_path=f"{out}/model.keras",
               log_path=f"{out}/log.csv", metrics_path=f"{out}/metrics.json", timing_path=f"{out}/timing.json",
               checkpoint_dir=f"{out}/checkpoint", fingerprint="same", extra_callbacks=[Slow()] if slow else [])
"""


def run(out: Path, backend: str, slow=False):
    args = [sys.executable, "-c", DRIVER, str(out)] + (["slow"] if slow else [])
    env = {**os.environ, **backend_environment(backend, 1)}
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)


@pytest.mark.parametrize("backend", ["jax", "tensorflow"])
def test_killed_training_resumes_from_checkpoint(tmp_path, backend):
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    straight.mkdir(), killed.mkdir()
    assert run(straight, backend).wait(timeout=300) == 0

    job = run(killed, backend, slow=True)
    meta = killed / "checkpoint" / "state.json"
    deadline = time.time() + 240
    while time.time() < deadline:
        if meta.exists() and json.loads(meta.read_text() or "{}").get("epoch", 0) >= 3:
            break
        time.sleep(0.05)
    job.send_signal(signal.SIGKILL)
    job.wait()
    done_before = json.loads(meta.read_text())["epoch"]
    assert 3 <= done_before < 8, "killed mid-run, after some checkpoints"
    assert not (killed / "metrics.json").exists()
    # Snakemake deletes an incomplete job's outputs before rerunning it.
    (killed / "log.csv").unlink(missing_ok=True)

    resumed = run(killed, backend)
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read()[-3000:]
    m_straight = json.loads((straight / "metrics.json").read_text())
    m_resumed = json.loads((killed / "metrics.json").read_text())
    assert json.loads((killed / "timing.json").read_text())["resumed_after_periods"] == done_before
    assert json.loads((straight / "timing.json").read_text())["resumed_after_periods"] == 0
    assert m_resumed["steps"] == m_straight["steps"] == 80 and m_resumed["backend"] == backend
    # The log continues where the checkpoint left it: each validation period once.
    log = pd.read_csv(killed / "log.csv")
    assert log["epoch"].is_unique and log["step"].iloc[-1] == 80
    assert log["step"].tolist() == list(range(10, 81, 10)), "the resumed log keeps the history"
    # Same batches, same weights and optimizer state: the same final model.
    assert m_resumed == m_straight
    for name in ("model.keras", "log.csv", "metrics.json"):
        assert (killed / name).read_bytes() == (straight / name).read_bytes(), f"{name} differs after resuming"
    left = sorted(p.name for p in (killed / "checkpoint").iterdir())
    assert left == ["finished", "lock"], "a finished job keeps its model aside and drops its resumable state"


# ---------------------------------------------------------------------------- in-process


class Interrupt(Exception):
    pass


class StopAfter(keras.callbacks.Callback):
    """Raise after ``periods`` validation periods, as a kill would stop the job (after the
    checkpoint of that period was written)."""

    def __init__(self, periods):
        super().__init__()
        self.periods = periods

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.periods:
            raise Interrupt


@pytest.fixture(scope="module")
def tiny():
    from attend import training
    from attend.config import defaults
    from attend.tasks import build_dataset

    cfg = {
        "sizes": {"train": 128, "valid": 16, "test": 16},
        "one_to_one": {"vocab_size": 5, "min_len": 3, "max_len": 5},
    }
    arrays, vocab = build_dataset("one_to_one", cfg, 0)
    model_cfg = {**defaults("model"), "units": 6}
    train_cfg = {
        **defaults("train"),
        "batch_size": 16,
        "learning_rate": 1e-2,
        "eval_every": 5,
        "n_eval": 16,
        "target_accuracy": 2.0,
        "max_steps": 20,
    }
    execution = {**defaults("execution"), "steps_per_execution": 5}

    def run(out, fingerprint="a", callbacks=(), seed=0, **train_over):
        training.set_determinism(seed, 1)
        return training.train(
            "ao",
            arrays,
            vocab,
            model_cfg,
            {**train_cfg, **train_over},
            execution,
            seed,
            model_path=out / "model.keras",
            log_path=out / "log.csv",
            metrics_path=out / "metrics.json",
            checkpoint_dir=out / "checkpoint",
            fingerprint=fingerprint,
            extra_callbacks=list(callbacks),
        )

    return run


def interrupted(run, out, periods=2, **kw):
    with pytest.raises(Interrupt):
        run(out, callbacks=[StopAfter(periods)], **kw)
    assert (out / "checkpoint" / "state.json").exists()


@pytest.mark.parametrize("damage", ["truncated weights", "cut state", "foreign state"])
def test_an_unreadable_checkpoint_is_discarded_not_a_crash_loop(tiny, tmp_path, damage, caplog):
    straight, broken = tmp_path / "straight", tmp_path / "broken"
    tiny(straight)
    interrupted(tiny, broken)
    folder = broken / "checkpoint"
    if damage == "truncated weights":
        weights = next(folder.glob("epoch*.weights.h5"))
        weights.write_bytes(weights.read_bytes()[:500])
    elif damage == "cut state":
        (folder / "state.json").write_text('{"epoch": 2, "weig')
    else:
        (folder / "state.json").write_text("[1, 2, 3]\n")
    with caplog.at_level("WARNING", logger="attend.checkpoint"):
        tiny(broken)
    assert "discarding the checkpoint" in caplog.text and "training starts over" in caplog.text
    for name in ("model.keras", "log.csv", "metrics.json"):
        assert (broken / name).read_bytes() == (straight / name).read_bytes(), name


def test_a_checkpoint_of_other_settings_is_not_resumed(tiny, tmp_path, caplog):
    """Killed at lr 0.01, rerun at lr 0.02: the rerun must not resume the old run's state."""
    straight, changed = tmp_path / "straight", tmp_path / "changed"
    tiny(straight, fingerprint="b", learning_rate=2e-2)
    interrupted(tiny, changed, fingerprint="a")
    with caplog.at_level("WARNING", logger="attend.checkpoint"):
        tiny(changed, fingerprint="b", learning_rate=2e-2)
    assert "trained from other settings, inputs or code" in caplog.text
    assert (changed / "model.keras").read_bytes() == (straight / "model.keras").read_bytes()


def test_resuming_in_process_gives_the_same_bytes(tiny, tmp_path):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    tiny(straight)
    interrupted(tiny, resumed, periods=3)
    tiny(resumed)
    for name in ("model.keras", "log.csv", "metrics.json"):
        assert (resumed / name).read_bytes() == (straight / name).read_bytes(), name


class NoTraining(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        raise AssertionError("trained although a model of this fingerprint was kept")


def test_a_finished_model_is_restored_not_retrained(tiny, tmp_path, caplog):
    """Snakemake deletes a job's outputs before rerunning it (and a failed job's): the model
    kept in checkpoint/finished/ comes back, byte for byte, when the job runs again from the
    same fingerprint; another fingerprint, or a damaged kept file, trains."""
    out = tmp_path / "out"
    tiny(out)
    made = {name: (out / name).read_bytes() for name in ("model.keras", "log.csv", "metrics.json")}
    kept = out / "checkpoint" / "finished"
    assert sorted(p.name for p in kept.iterdir()) == ["manifest.json", "metrics.json", "model.keras", "train_log.csv"]
    for name in made:
        (out / name).unlink()
    with caplog.at_level("INFO", logger="attend.finished"):
        metrics = tiny(out, callbacks=[NoTraining()])
    assert "restored model.keras, train_log.csv, metrics.json from" in caplog.text
    assert f"delete {kept} and force this job" in caplog.text
    assert {name: (out / name).read_bytes() for name in made} == made
    assert metrics == json.loads(made["metrics.json"])
    with pytest.raises(AssertionError, match="trained although"):  # another fingerprint: trains
        tiny(out, fingerprint="other", callbacks=[NoTraining()])
    tiny(out, callbacks=[NoTraining()])  # the failed job replaced nothing: "a" is still kept, and restored
    (kept / "model.keras").write_bytes(b"damaged")
    with caplog.at_level("WARNING", logger="attend.finished"):
        tiny(out)
    assert "its model.keras is missing or damaged; training" in caplog.text
    assert {name: (out / name).read_bytes() for name in made} == made


def _plant(kept: Path, files: dict[str, bytes]) -> None:
    """Put files into the kept folder with a manifest rewritten to match them, as a copy from
    elsewhere (or a careless hand) would leave it: only the files' own records can tell."""
    from attend.artifacts import file_digest

    for name, data in files.items():
        (kept / name).write_bytes(data)
    manifest = json.loads((kept / "manifest.json").read_text())
    manifest["files"] = {name: file_digest(kept / name) for name in manifest["files"]}
    (kept / "manifest.json").write_text(json.dumps(manifest))


def test_a_kept_model_of_another_seed_is_set_aside_and_the_model_trained(tiny, tmp_path, caplog):
    """Another seed's model and metrics under this job's manifest (checksums rewritten to
    match): restored before, with exit 0; now refused by what the files record, set aside,
    and the job's own model trained."""
    out, other = tmp_path / "out", tmp_path / "other"
    tiny(out)
    made = {name: (out / name).read_bytes() for name in ("model.keras", "log.csv", "metrics.json")}
    tiny(other, seed=1)
    kept = out / "checkpoint" / "finished"
    _plant(kept, {name: (other / name).read_bytes() for name in ("model.keras", "metrics.json")})
    for name in made:
        (out / name).unlink()
    with caplog.at_level("WARNING", logger="attend.finished"):
        tiny(out)
    assert "records another model (seed is 1, this job's 0)" in caplog.text
    aside = out / "checkpoint" / "set-aside-1"
    assert (aside / "model.keras").read_bytes() == (other / "model.keras").read_bytes()
    assert {name: (out / name).read_bytes() for name in made} == made
    assert (kept / "model.keras").read_bytes() == made["model.keras"]  # its own copy kept again


def test_a_kept_model_with_altered_weights_is_not_restored(tiny, tmp_path, caplog):
    """The same identity, other weights (edited after training, manifest rewritten): the
    metrics' record of the model's checksum refuses it."""
    from attend.model_files import load_model, save_model

    out = tmp_path / "out"
    tiny(out)
    made = {name: (out / name).read_bytes() for name in ("model.keras", "log.csv", "metrics.json")}
    kept = out / "checkpoint" / "finished"
    model = load_model(kept / "model.keras")
    weights = model.get_weights()
    weights[0] = weights[0] + 0.5
    model.set_weights(weights)
    save_model(model, tmp_path / "altered.keras")
    _plant(kept, {"model.keras": (tmp_path / "altered.keras").read_bytes()})
    for name in made:
        (out / name).unlink()
    with caplog.at_level("WARNING", logger="attend.finished"):
        tiny(out)
    assert "its model.keras is not the model its metrics.json was written with" in caplog.text
    assert {name: (out / name).read_bytes() for name in made} == made


def test_two_trainers_never_share_a_checkpoint(tmp_path):
    from attend.checkpoint import CheckpointInUse, TrainingCheckpoint

    first, second = TrainingCheckpoint(tmp_path, "a"), TrainingCheckpoint(tmp_path, "a")
    with first.held(), pytest.raises(CheckpointInUse, match=f"pid {os.getpid()}"), second.held():
        pass
    with second.held():  # released: free again
        pass


def test_saved_models_are_the_same_bytes_for_the_same_weights(tmp_path, monkeypatch):
    import datetime
    import types
    import zipfile

    from keras.src.saving import saving_lib

    from attend.config import defaults
    from attend.model_files import save_model
    from attend.models import build_model

    class Clock(datetime.datetime):  # each save a year later: Keras's own date_saved differs
        year = 2020

        @classmethod
        def now(cls, tz=None):
            cls.year += 1
            return datetime.datetime(cls.year, 1, 1)

    monkeypatch.setattr(saving_lib, "datetime", types.SimpleNamespace(datetime=Clock))
    keras.utils.set_random_seed(0)
    model = build_model("aed", 8, 8, 5, 5, {**defaults("model"), "units": 4})
    model.build()
    model.save(tmp_path / "raw_a.keras")
    model.save(tmp_path / "raw_b.keras")
    dates = [json.loads(zipfile.ZipFile(tmp_path / f"raw_{x}.keras").read("metadata.json"))["date_saved"] for x in "ab"]
    assert dates[0] != dates[1], "the patched clock moves Keras's save date"
    save_model(model, tmp_path / "a.keras")
    save_model(model, tmp_path / "b.keras")
    assert (tmp_path / "a.keras").read_bytes() == (tmp_path / "b.keras").read_bytes()
    again = keras.models.load_model(tmp_path / "b.keras", compile=False)
    assert again.count_params() == model.count_params()
