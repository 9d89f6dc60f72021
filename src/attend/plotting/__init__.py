"""The figures of docs/science.md §5: one module per figure, named ``figNN_<slug>``, each declaring
what it draws in a module-level ``FIGURE`` and drawing it with
``render(analysis, tables, pdf, png, settings)``:

* ``analysis`` maps "task/arch" to that model's ``analysis.npz`` (its per-model CSVs lie
  beside it), for the (task, architecture) pairs ``FIGURE.models`` selects that the config
  runs;
* ``tables`` maps each name in ``FIGURE.tables`` to its aggregated CSV, and each name in
  ``FIGURE.seed_tables`` to {"task/arch/seed": that model's CSV} for every seed of the
  figure's models (``inputs.table_or_empty`` reads either as one table);
* ``settings`` maps each config key path in ``FIGURE.settings`` to its value.

What a figure shows is written once, in its declaration (``title``, ``paper``, ``findings``,
``caption``, ``description``): the Snakemake report's caption and docs/science.md §5's list
of figures are made from it (:mod:`.captions`). The workflow makes one rule per module
found here (:func:`figures`), so a new figure is one module. Matplotlib, numpy and pandas
only: figures never import TensorFlow.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass

from .. import architectures, tasks


def _none(task: tasks.Task, arch: architectures.Architecture) -> bool:
    return False


def models_named(*pairs: tuple[str | None, str | None]) -> Callable[[tasks.Task, architectures.Architecture], bool]:
    """A figure's models given by name, as data: (task, architecture) pairs, None for any
    (``models_named(("one_to_one", "aed"))``: figure 2 draws one_to_one's AED)."""

    def chosen(task: tasks.Task, arch: architectures.Architecture) -> bool:
        return any((t is None or task.name == t) and (a is None or arch.name == a) for t, a in pairs)

    return chosen


@dataclass(frozen=True)
class Figure:
    # Which models' analyses the figure draws: a predicate on (task, architecture).
    models: Callable[[tasks.Task, architectures.Architecture], bool] = _none
    tables: tuple[str, ...] = ()  # aggregated tables it reads
    # Per-model tables it reads for every seed of its own models (not the whole grid, so a
    # figure of one task × architecture still needs only that pair's runs).
    seed_tables: tuple[str, ...] = ()
    settings: tuple[str, ...] = ()  # config key paths it shows, e.g. "model.units"
    # What it shows, written here only: the report's caption and docs/science.md §5's list
    # are made from these (attend.plotting.captions).
    title: str = ""  # its name after "Figure N — " in the report
    paper: str = ""  # the paper's figure it mirrors ("Fig. 2", "appendix"); "" if none
    findings: tuple[str, ...] = ()  # the findings of docs/science.md §1 it shows ("F1", …)
    caption: str = ""  # one line, plain text: what it shows (listings, docs/science.md §5)
    description: str = ""  # the report's caption: what each panel draws (reStructuredText)

    def pairs(self, task_names=None, arch_names=None) -> list[tuple[str, str]]:
        """The (task, arch) pairs it draws, in registry order, among the given names
        (default: every registered task and architecture)."""
        registry = tasks.load_task_modules()
        task_names = list(registry) if task_names is None else task_names
        arch_names = list(architectures.ARCHITECTURES) if arch_names is None else arch_names
        return [
            (t, a)
            for t in registry
            if t in task_names
            for a in architectures.ARCHITECTURES
            if a in arch_names and self.models(registry[t], architectures.ARCHITECTURES[a])
        ]


def figures() -> dict[str, Figure]:
    """Every figure module of this package, by name, in order."""
    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name.startswith("fig"))
    return {name: importlib.import_module(f"{__name__}.{name}").FIGURE for name in names}
