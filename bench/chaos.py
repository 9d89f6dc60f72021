"""Kill a training job with SIGKILL at random moments and check that every rerun ends with
exactly the model an uninterrupted run makes. Run by hand (minutes), not in CI:

    .venv/bin/python bench/chaos.py            # 20 kills
    .venv/bin/python bench/chaos.py --kills 5 --seed 3

Each round starts the job, waits until it has saved a random number of checkpoints (0 to
all of them), then kills it after a further random delay of up to one validation period,
so kills land in start-up, in training steps, in validations, inside checkpoint saves and
after the last one alike, however busy the machine. It then reruns the job to the end and
compares model.keras, the training log and metrics.json byte for byte with the
uninterrupted run's. Checkpoints are written every 5 steps, so saves take a large share of
the run and many kills land in one.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# One smoke-scale training job, as the workflow's train rule runs it (attend.training.train).
DRIVER = r"""
import sys
from attend import training
from attend.config import defaults
from attend.tasks import build_dataset

out = sys.argv[1]
cfg = {"sizes": {"train": 2000, "valid": 200, "test": 200},
       "one_to_one": {"vocab_size": 10, "min_len": 15, "max_len": 25}}
arrays, vocab = build_dataset("one_to_one", cfg, 0)
model_cfg = {**defaults("model"), "units": 16}
train_cfg = {**defaults("train"), "eval_every": 5, "n_eval": 200, "max_steps": 150, "target_accuracy": 1.0}
execution = {**defaults("execution"), "steps_per_execution": 5}
training.set_determinism(0, 1)
training.train("aed", arrays, vocab, model_cfg, train_cfg, execution, 0, model_path=f"{out}/model.keras",
               log_path=f"{out}/train_log.csv", metrics_path=f"{out}/metrics.json",
               checkpoint_dir=f"{out}/checkpoint", fingerprint="chaos")
"""
OUTPUTS = ("model.keras", "train_log.csv", "metrics.json")
REPO = Path(__file__).resolve().parents[1]
ENV = dict(os.environ)  # PYTHONPATH set in main(): a snapshot of the code, safe from edits meanwhile


def start(out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=ENV
    )


def finish(out: Path) -> float:
    began = time.perf_counter()
    job = start(out)
    _, err = job.communicate()
    if job.returncode != 0:
        raise SystemExit(f"the job failed in {out} (exit {job.returncode}):\n{err[-3000:]}")
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0, help="of the random kill times")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(REPO / "src", Path(tmp) / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        ENV["PYTHONPATH"] = str(Path(tmp) / "src")
        reference = Path(tmp) / "uninterrupted"
        reference.mkdir()
        wall = finish(reference)
        expected = {name: (reference / name).read_bytes() for name in OUTPUTS}
        print(f"uninterrupted run: {wall:.1f} s, {json.loads(expected['metrics.json'])['steps']} steps")
        periods = len((reference / "train_log.csv").read_text().splitlines()) - 1
        same = 0
        for k in range(1, args.kills + 1):
            out = Path(tmp) / f"kill{k}"
            out.mkdir()
            saved, began = rng.randint(0, periods), time.perf_counter()
            job = start(out)
            state = out / "checkpoint" / "state.json"
            last, last_at, period = 0, None, 1.0  # seconds per validation period, measured as it runs
            while job.poll() is None and last < saved:  # wait for `saved` checkpoints
                time.sleep(0.02)
                try:
                    now = json.loads(state.read_text())["epoch"]
                except (OSError, ValueError, KeyError):
                    continue
                if now != last:
                    if last_at is not None:
                        period = (time.perf_counter() - last_at) / (now - last)
                    last, last_at = now, time.perf_counter()
            time.sleep(rng.uniform(0, period if saved else 15.0))  # saved == 0: somewhere in start-up
            delay = time.perf_counter() - began
            job.send_signal(signal.SIGKILL)
            job.wait()
            left = json.loads(state.read_text())["epoch"] if state.exists() else 0
            finished_anyway = (out / "metrics.json").exists()
            for name in OUTPUTS:  # Snakemake deletes a killed job's outputs before its rerun
                (out / name).unlink(missing_ok=True)
            rerun = finish(out)
            ok = all((out / name).read_bytes() == expected[name] for name in OUTPUTS)
            same += ok
            print(
                f"kill {k:2d} at {delay:5.1f} s (aimed after {saved:2d} of {periods} checkpoints): "
                f"checkpoint after {left:2d} periods"
                f"{' (job had finished)' if finished_anyway else ''}; rerun {rerun:5.1f} s; "
                f"{'identical' if ok else 'DIFFERENT'}",
                flush=True,
            )
            shutil.rmtree(out)
        print(f"{same} of {args.kills} reruns ended with the uninterrupted run's model, log and metrics")
        sys.exit(0 if same == args.kills else 1)


if __name__ == "__main__":
    main()
