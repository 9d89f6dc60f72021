"""Config helpers shared by the workflow and the tests (no Snakemake here)."""

from __future__ import annotations

import copy

import jsonschema


def merged(base: dict, override: dict) -> dict:
    """A deep copy of ``base`` with ``override`` merged in, recursively."""
    out = copy.deepcopy(base)
    for key, value in (override or {}).items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def task_settings(config: dict, task: str) -> tuple[dict, dict]:
    """(model, train) settings for one task: the defaults with the task's overrides."""
    over = config.get("overrides", {}).get(task, {})
    return merged(config["model"], over.get("model", {})), merged(config["train"], over.get("train", {}))


def config_errors(config: dict, schema: dict) -> list[str]:
    """One line per schema violation, each naming the key path, e.g.
    ``train.max_steps: -3 is less than the minimum of 1``."""
    validator = jsonschema.Draft202012Validator(schema)
    lines = []
    for err in sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path))):
        path = ".".join(map(str, err.absolute_path)) or "(top level)"
        lines.append(f"{path}: {err.message}")
    return lines
