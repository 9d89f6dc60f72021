"""The three synthetic tasks: one_to_one, reverse and sort (docs/science.md §2).

Each shares one dictionary: input word ``I_k`` translates to output word ``O_k``.

* one_to_one: O sequence in the input's order (diagonal attention).
* reverse: in reverse order, at a fixed length by default (anti-diagonal attention).
* sort: words drawn without repetition, output in ascending word order (attention goes
  wherever the next-larger word is, so it depends on content, not position).
"""

from __future__ import annotations

import numpy as np

from . import Task, register
from .base import Split, TaskData


def words(n: int) -> tuple[list[str], list[str]]:
    width = len(str(n - 1))
    return [f"I_{k:0{width}d}" for k in range(n)], [f"O_{k:0{width}d}" for k in range(n)]


def check(task: str, cfg: dict) -> list[str]:
    """What the schema cannot say: the lengths' order, and sort's words without repetition."""
    errors = []
    if cfg["min_len"] > cfg["max_len"]:
        errors.append(f"data.{task}: min_len ({cfg['min_len']}) must not exceed max_len ({cfg['max_len']})")
    if task == "sort" and cfg["max_len"] > cfg["vocab_size"]:
        errors.append(
            f"data.sort: sort draws words without repetition, so max_len ({cfg['max_len']}) "
            f"must not exceed vocab_size ({cfg['vocab_size']})"
        )
    return errors


def _draw(rng, n_seqs, cfg, *, unique: bool) -> list[np.ndarray]:
    n_words = cfg["vocab_size"]
    lens = rng.integers(cfg["min_len"], cfg["max_len"] + 1, size=n_seqs)
    if unique:
        # A random permutation per row; keep its first `length` entries.
        perms = rng.permuted(np.tile(np.arange(n_words), (n_seqs, 1)), axis=1)
        return [perms[i, :n] for i, n in enumerate(lens)]
    return [rng.integers(0, n_words, size=n) for n in lens]


def _output_order(task: str, ids: np.ndarray) -> np.ndarray:
    """Indices into the input giving the output's order: the alignment."""
    if task == "one_to_one":
        return np.arange(len(ids))
    if task == "reverse":
        return np.arange(len(ids))[::-1]
    if task == "sort":
        return np.argsort(ids, kind="stable")
    raise ValueError(f"unknown synthetic task {task!r}")


def make_synthetic(task: str, cfg: dict, seed: int, sizes: dict[str, int]) -> TaskData:
    """Generate train/valid/test splits of a synthetic task.

    cfg: ``vocab_size``, ``min_len``, ``max_len`` (for ``reverse``, equal by default).
    Each split draws from its own stream of one seeded generator, so splits are disjoint
    streams and the whole dataset is a function of (cfg, seed, sizes).
    """
    errors = check(task, cfg)
    if errors:
        raise ValueError("; ".join(errors))
    src_words, tgt_words = words(cfg["vocab_size"])
    splits = {}
    streams = np.random.SeedSequence(seed).spawn(len(sizes))
    for (name, n), stream in zip(sizes.items(), streams):
        rng = np.random.default_rng(stream)
        src, tgt, align = [], [], []
        for ids in _draw(rng, n, cfg, unique=(task == "sort")):
            order = _output_order(task, ids)
            src.append([src_words[i] for i in ids])
            tgt.append([tgt_words[i] for i in ids[order]])
            align.append(order.tolist())
        splits[name] = Split(src, tgt, align)
    return TaskData(
        src_words=src_words,
        tgt_words=tgt_words,
        splits=splits,
        dictionary=dict(zip(src_words, tgt_words)),
        meta={"task": task, "config": cfg, "seed": seed, "sizes": sizes},
    )


def _schema(vocab_size: int, min_len: int, max_len: int, what: str) -> dict:
    return {
        "type": "object",
        "additionalProperties": False,
        "description": what,
        "properties": {
            "vocab_size": {
                "type": "integer",
                "minimum": 2,
                "default": vocab_size,
                "description": "number of input words I_k (and output words O_k)",
            },
            "min_len": {
                "type": "integer",
                "minimum": 1,
                "default": min_len,
                "description": "shortest input, in words (without </s>)",
            },
            "max_len": {
                "type": "integer",
                "minimum": 1,
                "default": max_len,
                "description": "longest input, in words (without </s>); lengths are uniform in between",
            },
        },
    }


def _task(name, label, family, color, marker, schema):
    return register(
        Task(
            name=name,
            label=label,
            family=family,
            schema=schema,
            color=color,
            marker=marker,
            generate=lambda cfg, seed, sizes, corpus=None: make_synthetic(name, cfg, seed, sizes),
            check=lambda cfg, sizes: check(name, cfg),
            alignment=True,
            dictionary=True,
            synthetic=True,
        )
    )


_task(
    "one_to_one",
    "one-to-one",
    "temporal",
    "#1b9e77",
    "o",
    _schema(10, 15, 25, "(choice) one_to_one: I_k -> O_k word by word, in the same order"),
)
_task(
    "reverse",
    "reverse",
    "temporal",
    "#d95f02",
    "s",
    _schema(
        10,
        20,
        20,
        "(choice) reverse: the translated words in reverse order; a fixed length, "
        "since AO cannot know the input's length",
    ),
)
_task(
    "sort",
    "sort",
    "input",
    "#7570b3",
    "^",
    _schema(30, 8, 15, "(choice) sort: words drawn without repetition, output in ascending word order"),
)
