"""Dataset generators for the five tasks of PAPER.md §2."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .base import TaskData, encode

TASKS = ("one_to_one", "reverse", "sort", "escan", "translation")


def generate(task: str, data_cfg: dict, seed: int, corpus: str | Path | None = None) -> TaskData:
    """Word-level train/valid/test splits of one task, a function of (config, seed)."""
    sizes = data_cfg["sizes"]
    if task in ("one_to_one", "reverse", "sort"):
        from .synthetic import make_synthetic

        return make_synthetic(task, data_cfg[task], seed, sizes)
    if task == "escan":
        from .scan import make_escan

        return make_escan(data_cfg["escan"], seed, sizes)
    if task == "translation":
        from .translation import make_translation

        if corpus is None:
            raise ValueError("the translation task needs the corpus file (fra.txt)")
        return make_translation(Path(corpus), data_cfg["translation"], seed, sizes)
    raise ValueError(f"unknown task {task!r}; choose one of {TASKS}")


def build_dataset(task: str, data_cfg: dict, seed: int, corpus=None) -> tuple[dict[str, np.ndarray], dict]:
    """Arrays for the dataset npz and the record for its JSON."""
    data = generate(task, data_cfg, seed, corpus)
    arrays, record = encode(data, unk="<unk>" if task == "translation" else None)
    record.update(task=task, seed=seed, config=data_cfg.get(task, {}),
                  sizes={s: len(arrays[f"{s}_src"]) for s in ("train", "valid", "test")})
    return arrays, record
