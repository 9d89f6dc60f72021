"""What a variant is (docs/variants.md).

A **variant** is a named set of overrides of the ``model`` and ``train`` settings (the
config's ``variants:``), optionally per task and for fewer tasks or architectures; ``base``
is the config itself. The workflow runs each variant as a branch of the DAG under
``results/variants/<name>/`` (:func:`variant_dir`). A variant's settings of one task and
architecture merge, later winning: ``model``/``train``; ``arch_overrides.<arch>``;
``variants.<name>.model``/``train``; ``overrides.<task>``;
``variants.<name>.overrides.<task>`` (:func:`task_settings`). A
variant trains only the models its change reaches: the others come from the first variant
with the same settings as far as that architecture reads them (:func:`model_owner`). Every
variant runs each architecture on that architecture's tasks only
(``arch_overrides.<arch>.tasks``; :func:`variant_models`).

The variants' results are compared in :mod:`attend.variant_comparison`. No Snakemake, no
Keras, no pandas.
"""

from __future__ import annotations

import copy
import hashlib
import json

from . import architectures

BASE = "base"  # the variant that is the config itself: results/, figures/


def merged(base: dict, override: dict) -> dict:
    """A deep copy of ``base`` with ``override`` merged in, recursively."""
    out = copy.deepcopy(base)
    for key, value in (override or {}).items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def variants(config: dict) -> dict[str, dict]:
    """Every variant by name, base first (with no overrides), then the config's in order."""
    return {BASE: {}, **{k: v for k, v in config.get("variants", {}).items() if k != BASE}}


def variant_names(config: dict) -> list[str]:
    return list(variants(config))


def variant_tasks(config: dict, variant: str) -> list[str]:
    """The tasks a variant runs, in the config's order."""
    chosen = variants(config)[variant].get("tasks", config["tasks"])
    return [t for t in config["tasks"] if t in chosen]


def variant_architectures(config: dict, variant: str) -> list[str]:
    """The architectures a variant trains, in the config's order."""
    chosen = variants(config)[variant].get("architectures", config["architectures"])
    return [a for a in config["architectures"] if a in chosen]


def arch_tasks(config: dict, arch: str) -> list[str]:
    """The tasks an architecture runs on, in the config's order: arch_overrides.<arch>.tasks,
    or every task where that is null (its default)."""
    chosen = config.get("arch_overrides", {}).get(arch, {}).get("tasks")
    return [t for t in config["tasks"] if chosen is None or t in chosen]


def variant_models(config: dict, variant: str) -> list[tuple[str, str]]:
    """(task, arch) of every model a variant runs, task by task in the config's order: its
    tasks × its architectures, each architecture on its own tasks only (:func:`arch_tasks`)."""
    archs = variant_architectures(config, variant)
    return [(t, a) for t in variant_tasks(config, variant) for a in archs if t in arch_tasks(config, a)]


def model_settings_read(config: dict, task: str, arch: str, variant: str = BASE) -> tuple[dict, dict]:
    """(model, train) settings of one task in one variant, without the model settings that
    ``arch`` never reads (``Architecture.ignores``; ``heads`` where
    :func:`attend.architectures.reads_heads` says so): two variants with equal values here
    train the same model."""
    model, train = task_settings(config, task, variant, arch)
    ignored = set(architectures.ARCHITECTURES[arch].ignores)
    if not architectures.reads_heads(arch, model):
        ignored.add("heads")
    return {k: v for k, v in model.items() if k not in ignored}, train


def model_owner(config: dict, task: str, arch: str, variant: str) -> str:
    """The variant whose branch trains ``variant``'s (task, arch) models: the first variant
    (base first) that runs them with the same settings as far as ``arch`` reads them. A
    variant that changes only what an architecture ignores (attention for VED, the cell for
    AO) shares those models instead of training copies."""
    mine = model_settings_read(config, task, arch, variant)
    return next(
        v
        for v in variant_names(config)
        if (task, arch) in variant_models(config, v) and model_settings_read(config, task, arch, v) == mine
    )


def settings_digest(config: dict, task: str, arch: str, variant: str = BASE) -> str:
    """A short checksum of what one (task, arch) model of a variant is trained from in the
    config: the settings ``arch`` reads (:func:`model_settings_read`) and the backend. Equal
    for two variants that share the model (:func:`model_owner`)."""
    model, train = model_settings_read(config, task, arch, variant)
    record = {"model": model, "train": train, "backend": config.get("backend")}
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()[:16]


def model_identity(config: dict, task: str, arch: str, variant: str = BASE) -> dict:
    """What every artifact of a (task, arch) model made on ``variant``'s branch records,
    beside its task, architecture and seed: the variant and :func:`settings_digest`. Its
    consumers check both, so a file copied from another variant's branch, or made under
    other settings, is refused by name."""
    return {"variant": variant, "settings_digest": settings_digest(config, task, arch, variant)}


def variant_dir(variant: str) -> str:
    """Where a variant's results live under results/ (and its logs under logs/): "" for
    base (results/models/..., today's paths), "variants/<name>/" for the others."""
    return "" if variant == BASE else f"variants/{variant}/"


def task_settings(config: dict, task: str, variant: str = BASE, arch: str | None = None) -> tuple[dict, dict]:
    """(model, train) settings of one task in one variant, for architecture ``arch`` (None:
    without any architecture's own settings), merged in this order, later winning:
    ``model``/``train``; ``arch_overrides.<arch>``; ``variants.<variant>.model``/``train``;
    ``overrides.<task>``; ``variants.<variant>.overrides.<task>``. The base variant has no
    variant layers."""
    block = variants(config)[variant]
    own = config.get("arch_overrides", {}).get(arch, {}) if arch else {}
    layers = [config, own, block, config.get("overrides", {}).get(task, {}), block.get("overrides", {}).get(task, {})]
    model, train = {}, {}
    for layer in layers:
        model, train = merged(model, layer.get("model", {})), merged(train, layer.get("train", {}))
    return model, train


# ---------------------------------------------------------------------------- checks


def variant_errors(config: dict) -> list[str]:
    """The variants' own checks, and the architectures' tasks: base takes no overrides; a
    variant runs a subset of the config's tasks and architectures, and at least one model;
    an architecture runs on a subset of the config's tasks."""
    errors = []
    for arch, block in config.get("arch_overrides", {}).items():
        extra = [t for t in block.get("tasks") or [] if t not in config["tasks"]]
        if extra:
            errors.append(
                f"arch_overrides.{arch}.tasks: {extra} are not among the config's tasks {config['tasks']}; "
                "an architecture runs on a subset of them (leave the key out to run it on all)"
            )
    if config.get("variants", {}).get(BASE):
        errors.append(
            f"variants.{BASE}: the base variant is the config itself (its model, train and overrides) "
            "and takes no overrides; give the variant another name"
        )
    for name, block in config.get("variants", {}).items():
        for key in ("tasks", "architectures"):
            extra = [x for x in block.get(key, []) if x not in config[key]]
            if extra:
                errors.append(
                    f"variants.{name}.{key}: {extra} are not among the config's {key} {config[key]}; "
                    f"a variant runs a subset of them"
                )
    if errors:
        return errors
    for name in config.get("variants", {}):
        if name != BASE and not variant_models(config, name):
            errors.append(
                f"variants.{name}: runs no model: none of its architectures "
                f"{variant_architectures(config, name)} runs on its tasks {variant_tasks(config, name)} "
                "(arch_overrides.<arch>.tasks); give it a task one of them runs on"
            )
    return errors


def _where(config: dict, task: str, variant: str, part: str, arch: str | None = None) -> str:
    """The key path a (task, variant, arch) setting of ``part`` ("model", "train") most
    likely comes from, for error messages: the most specific block that sets it."""
    block = variants(config).get(variant, {})
    for present, path in (
        (part in block.get("overrides", {}).get(task, {}), f"variants.{variant}.overrides.{task}"),
        (part in config.get("overrides", {}).get(task, {}), f"overrides.{task}"),
        (part in block, f"variants.{variant}"),
        (part in config.get("arch_overrides", {}).get(arch, {}), f"arch_overrides.{arch}"),
    ):
        if present:
            return f"{path}.{part}"
    return part


def settings_errors(config: dict) -> list[str]:
    """Checks of every task's merged settings in every variant, each naming the most
    specific block the setting comes from."""
    errors = []
    for variant in variant_names(config):
        for name, arch in variant_models(config, variant):
            model, train = task_settings(config, name, variant, arch)
            if train["max_steps"] % train["eval_every"]:
                errors.append(
                    f"{_where(config, name, variant, 'train', arch)}: max_steps ({train['max_steps']}) "
                    f"must be a multiple of eval_every ({train['eval_every']}), since training stops "
                    "only at a validation"
                )
            if architectures.reads_heads(arch, model) and model["units"] % model["heads"]:
                errors.append(
                    f"{_where(config, name, variant, 'model', arch)}: heads ({model['heads']}) must "
                    f"divide units ({model['units']}): multihead attention (and the Transformer's) "
                    "splits the units into heads of equal width"
                )
    return errors
