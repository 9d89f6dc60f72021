"""A training job killed midway resumes from its last checkpoint, not from scratch, and
ends where an uninterrupted run ends."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("keras")

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
               log_path=f"{out}/log.csv", metrics_path=f"{out}/metrics.json",
               checkpoint_dir=f"{out}/checkpoint", extra_callbacks=[Slow()] if slow else [])
"""


def run(out: Path, slow=False):
    args = [sys.executable, "-c", DRIVER, str(out)] + (["slow"] if slow else [])
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_killed_training_resumes_from_checkpoint(tmp_path):
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    straight.mkdir(), killed.mkdir()
    assert run(straight).wait(timeout=300) == 0

    job = run(killed, slow=True)
    meta = killed / "checkpoint" / "backup" / "training_metadata.json"
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

    resumed = run(killed)
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read()[-3000:]
    m_straight = json.loads((straight / "metrics.json").read_text())
    m_resumed = json.loads((killed / "metrics.json").read_text())
    assert m_resumed["resumed"] and not m_straight["resumed"]
    assert m_resumed["steps"] == m_straight["steps"] == 80
    # The log continues where the checkpoint left it: each validation period once.
    log = pd.read_csv(killed / "log.csv")
    assert log["epoch"].is_unique and log["step"].iloc[-1] == 80
    assert log["step"].tolist() == list(range(10, 81, 10)), "the resumed log keeps the history"
    # Same batches, same weights and optimizer state: the same final model.
    for key in ("test_token_acc", "test_seq_acc", "test_teacher_forced_token_acc"):
        assert m_resumed[key] == pytest.approx(m_straight[key], abs=1e-9), key
    assert not (killed / "checkpoint").exists(), "a finished job removes its checkpoint"
