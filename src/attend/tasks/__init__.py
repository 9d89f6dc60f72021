"""The task registry: every task of docs/science.md §2 is declared once, by the module that
generates it, and everything else (the config schema's enums and the task's settings
block, the workflow's wildcards and targets, plot labels and colours, the claims' task
families, the tests' parametrisation) is derived from :data:`REGISTRY`.

A task module calls :func:`register` with a :class:`Task`. The built-in tasks live in
``synthetic``, ``scan`` and ``translation``; a task of your own is one module of the
same shape, named in the config's ``task_modules`` (docs/extending.md).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .base import TaskData, encode

FAMILIES = ("temporal", "input", "mixed")


@dataclass(frozen=True)
class Task:
    """One task: how to generate it, what it provides, and how figures draw it."""

    name: str
    label: str  # how figures and tables name it
    family: str  # which attention it needs: "temporal", "input" (content) or "mixed" (F4)
    # generate(settings, seed, sizes, corpus) -> TaskData: settings is the task's block
    # data.<name> of the config, sizes is data.sizes, corpus the external file (or None)
    generate: Callable[..., TaskData]
    # The JSON schema of data.<name>, every key with a description and its default.
    schema: dict
    color: str
    marker: str
    alignment: bool = False  # knows the source position behind each target word
    dictionary: bool = False  # has a word-for-word dictionary (source word -> target word)
    synthetic: bool = False  # one of the controlled toy tasks (F2, F3 are checked on these)
    corpus: bool = False  # reads an external file, obtained by the workflow's corpus rule
    unk: str | None = None  # the unknown-word token, for tasks whose vocabulary is cut
    # check(settings, sizes) -> list of error lines, for what the schema cannot say alone
    check: Callable[[dict, dict], list[str]] = field(default=lambda settings, sizes: [])

    def __post_init__(self):
        if self.family not in FAMILIES:
            raise ValueError(f"task {self.name!r}: family must be one of {FAMILIES}, got {self.family!r}")

    @property
    def module(self) -> str:
        """The module that generates the task (its code decides the task's datasets)."""
        return self.generate.__module__


REGISTRY: dict[str, Task] = {}
BUILTIN_MODULES = ("attend.tasks.synthetic", "attend.tasks.scan", "attend.tasks.translation")
_REGISTERED_BY: dict[str, str] = {}  # task name -> the module whose import registered it


def register(task: Task) -> Task:
    """Add a task to the registry (a module registers its tasks when imported)."""
    if task.name in REGISTRY and REGISTRY[task.name] != task:
        raise ValueError(f"a task named {task.name!r} is already registered by {REGISTRY[task.name].module}")
    REGISTRY[task.name] = task
    _REGISTERED_BY.setdefault(task.name, sys._getframe(1).f_globals.get("__name__", ""))
    return task


def _order_registry(modules) -> None:
    """Put the registry in a fixed order, whatever imported what first: the built-in
    modules' tasks, then those of ``modules``, each in the order its module registers them."""
    rank = {name: i for i, name in enumerate(modules)}
    ordered = sorted(REGISTRY.items(), key=lambda item: rank.get(_REGISTERED_BY.get(item[0]), len(rank)))
    REGISTRY.clear()
    REGISTRY.update(ordered)


def load_task_modules(modules=()) -> dict[str, Task]:
    """Import the built-in task modules and ``modules`` (importable names), which register
    their tasks; return the registry."""
    for name in (*BUILTIN_MODULES, *modules):
        try:
            importlib.import_module(name)
        except ImportError as err:
            raise ImportError(
                f"task module {name!r} (config key task_modules) cannot be imported: {err}; "
                "it must be importable from the workflow's directory or PYTHONPATH"
            ) from err
    _order_registry((*BUILTIN_MODULES, *modules))
    return REGISTRY


def get(name: str) -> Task:
    load_task_modules()
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown task {name!r}; registered: {sorted(REGISTRY)}") from None


def build_dataset(
    task: str, data_cfg: dict, seed: int, corpus: str | Path | None = None
) -> tuple[dict[str, np.ndarray], dict]:
    """Arrays for the dataset npz and the record for its JSON: a function of the task's
    settings ``data_cfg[task]``, ``data_cfg["sizes"]`` and ``seed``."""
    spec = get(task)
    if spec.corpus and corpus is None:
        raise ValueError(f"the {task} task needs its corpus file")
    data = spec.generate(data_cfg[task], seed, data_cfg.get("sizes"), Path(corpus) if corpus else None)
    arrays, record = encode(data, unk=spec.unk)
    record.update(
        task=task,
        seed=seed,
        config=data_cfg[task],
        sizes={s: len(arrays[f"{s}_src"]) for s in ("train", "valid", "test")},
    )
    return arrays, record
