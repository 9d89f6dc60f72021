"""The config schema as written (``config.schema.yaml`` beside this module, the only place
a default lives), read without the registries of tasks and architectures.

:mod:`attend.config` builds the full schema from it (the task and architecture enums, one
``data.<task>`` block per registered task) and checks configs against that. The tools for
a model of any origin (``attend analyse``, :mod:`attend.api`) read the one default they
need here, :func:`written_default`, so that they import nothing of the workflow's config.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path

import yaml

SCHEMA_FILE = Path(__file__).with_name("config.schema.yaml")


@cache
def _schema_as_written() -> dict:
    return yaml.safe_load(SCHEMA_FILE.read_text())


def schema_as_written() -> dict:
    """The schema file, parsed (a copy: the caller may fill it in)."""
    return copy.deepcopy(_schema_as_written())


def resolve_ref(node: dict, root: dict) -> dict:
    """A node with a local ``$ref`` merged in (its own keys win)."""
    while "$ref" in node:
        target = root
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def written_default(path: str):
    """The default the schema file writes for one key, by its dotted path, e.g.
    ``written_default("analysis.n_samples")``. A key of a task's ``data.<task>`` block, or
    a block whose default is made of its keys' defaults, is :func:`attend.config.defaults`'."""
    root = _schema_as_written()
    node = root
    for part in path.split("."):
        properties = resolve_ref(node, root).get("properties", {})
        if part not in properties:
            raise KeyError(f"{path}: no key {part!r} in {SCHEMA_FILE.name}; config/README.md lists every key")
        node = properties[part]
    node = resolve_ref(node, root)
    if "default" not in node:
        raise KeyError(
            f"{path}: {SCHEMA_FILE.name} writes no default for this key itself; "
            "attend.config.defaults gives the defaults of a whole block"
        )
    return copy.deepcopy(node["default"])


def written_block_defaults(path: str) -> dict:
    """The defaults the schema file writes for each key of one block, e.g.
    ``written_block_defaults("model")``: a model built from settings that leave out what its
    architecture never reads (the workflow's jobs get only what they read) fills them in
    here, so those keys still have one home."""
    root = _schema_as_written()
    node = root
    for part in path.split("."):
        node = resolve_ref(node, root)["properties"][part]
    properties = {key: resolve_ref(sub, root) for key, sub in resolve_ref(node, root).get("properties", {}).items()}
    return {key: copy.deepcopy(sub["default"]) for key, sub in properties.items() if "default" in sub}
