"""The config: its schema, its defaults and its checks (no Snakemake here).

``config.schema.yaml`` beside this module is the only place a default lives
(:mod:`attend.config_schema` reads it). The schema the workflow validates against is built
from it and from the registries: the task and architecture enums, one ``data.<task>``
block per registered task (each task declares its own block's schema), and one
``overrides.<task>`` entry per task. :func:`resolve` checks a config and fills in every
default; ``python -m attend.config`` prints the key catalog (``config/README.md``).
"""

from __future__ import annotations

import copy
from pathlib import Path

import jsonschema
import yaml

from . import architectures, tasks, variants
from .config_schema import resolve_ref, schema_as_written


class ConfigError(ValueError):
    """A config that the workflow cannot run; the message names every offending key."""


def schema(task_modules=()) -> dict:
    """The full config schema, with the registered tasks and architectures filled in."""
    registry = tasks.load_task_modules(tuple(task_modules))
    full = schema_as_written()
    props = full["properties"]
    names = list(registry)
    props["tasks"]["items"]["enum"] = names
    props["architectures"]["items"]["enum"] = list(architectures.ARCHITECTURES)
    full["$defs"]["model"]["properties"]["attention"]["enum"] = list(architectures.ATTENTION_KINDS)
    for name, task in registry.items():
        props["data"]["properties"][name] = copy.deepcopy(task.schema)
    props["overrides"]["propertyNames"] = {"enum": names}
    props["arch_overrides"]["propertyNames"] = {"enum": list(architectures.ARCHITECTURES)}
    full["$defs"]["arch_settings"]["properties"]["tasks"]["items"]["enum"] = names
    variant = full["$defs"]["variant"]["properties"]
    variant["overrides"]["propertyNames"] = {"enum": names}
    variant["tasks"]["items"]["enum"] = names
    variant["architectures"]["items"]["enum"] = list(architectures.ARCHITECTURES)
    return full


def fill_defaults(instance: dict, node: dict, root: dict) -> dict:
    """``instance`` with every missing key that has a ``default`` filled in, and a mapping
    the config writes merged over its mapping default; recursing into objects through
    ``properties`` only (``overrides`` blocks, which hold partial settings through
    ``additionalProperties``, stay as written)."""
    node = resolve_ref(node, root)
    out = dict(instance)
    for key, sub in node.get("properties", {}).items():
        sub = resolve_ref(sub, root)
        if key not in out and "default" in sub:
            out[key] = copy.deepcopy(sub["default"])
        elif isinstance(out.get(key), dict) and isinstance(sub.get("default"), dict):
            # a mapping's default (arch_overrides) lies under what the config writes, key by
            # key: changing the Transformer's learning rate keeps its four heads
            out[key] = variants.merged(sub["default"], out[key])
        elif key not in out and sub.get("type") == "object":
            out[key] = {}
        if isinstance(out.get(key), dict) and sub.get("type") == "object":
            out[key] = fill_defaults(out[key], sub, root)
    return out


def defaults(path: str = "", task_modules=()) -> dict:
    """The defaults under a dotted key path, e.g. ``defaults("data.escan")`` or
    ``defaults("model")``; the whole default config for ``""``."""
    full = schema(task_modules)
    node, value = full, fill_defaults({}, full, full)
    for part in filter(None, path.split(".")):
        node = resolve_ref(node, full)["properties"][part]
        value = value[part]
    return value


def _coerce(instance, node: dict, root: dict, path: str, notes: list[str]):
    """Numbers given as strings (``--config seeds=[0,1]`` gives strings) and integral
    floats (``eval_every: 50.0``) become the integers the schema asks for; each change
    is noted by key path. Anything else is left for the validator to name."""
    node = resolve_ref(node, root)
    kind = node.get("type")
    if isinstance(instance, dict):
        props = node.get("properties", {})
        extra = node.get("additionalProperties")
        return {
            k: _coerce(v, props.get(k, extra if isinstance(extra, dict) else {}), root, f"{path}.{k}", notes)
            for k, v in instance.items()
        }
    if isinstance(instance, list) and isinstance(node.get("items"), dict):
        return [_coerce(v, node["items"], root, f"{path}.{i}", notes) for i, v in enumerate(instance)]
    kinds = kind if isinstance(kind, list) else [kind]
    if "integer" in kinds and not isinstance(instance, bool):
        if isinstance(instance, str) and instance.strip().lstrip("+-").isdigit():
            notes.append(f"{path.lstrip('.')}: read the string {instance!r} as the integer {int(instance)}")
            return int(instance)
        if isinstance(instance, float) and instance.is_integer():
            notes.append(f"{path.lstrip('.')}: read {instance!r} as the integer {int(instance)}")
            return int(instance)
    if (
        kinds == ["number"] and isinstance(instance, int) and not isinstance(instance, bool) and abs(instance) < 2**53
    ):  # exactly a float (larger ones are left for the validator)
        return float(instance)  # 1 and 1.0 are one setting: written alike, compared alike
    if "number" in kinds and isinstance(instance, str):
        try:
            value = float(instance)
        except ValueError:
            return instance
        notes.append(f"{path.lstrip('.')}: read the string {instance!r} as the number {value}")
        return value
    return instance


def canonical(instance, node: dict, root: dict):
    """``instance`` with the keys of every mapping sorted, recursively (except a mapping whose
    schema says its order means something, ``x-ordered``: the variants). Settings that are
    equal in value are then equal in form: the workflow's jobs get them as parameters, which
    Snakemake compares as text, so a config that restates a default or lists keys in another
    order reruns nothing."""
    node = resolve_ref(node, root)
    if isinstance(instance, dict):
        props = node.get("properties", {})
        extra = node.get("additionalProperties")
        out = {
            k: canonical(v, props.get(k, extra if isinstance(extra, dict) else {}), root) for k, v in instance.items()
        }
        return out if node.get("x-ordered") else dict(sorted(out.items()))
    if isinstance(instance, list) and isinstance(node.get("items"), dict):
        return [canonical(v, node["items"], root) for v in instance]
    return instance


def config_errors(config: dict, full_schema: dict) -> list[str]:
    """One line per schema violation, each naming the key path, e.g.
    ``train.max_steps: -3 is less than the minimum of 1``."""
    validator = jsonschema.Draft202012Validator(full_schema)
    lines = []
    for err in sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path))):
        path = ".".join(map(str, err.absolute_path)) or "(top level)"
        lines.append(f"{path}: {err.message}")
    return lines


def cross_field_errors(config: dict) -> list[str]:
    """Checks that need two keys at once, for every configured task and its settings in
    every variant."""
    errors = variants.variant_errors(config)
    if errors:
        return errors
    sizes = config["data"]["sizes"]
    for name in config["tasks"]:
        errors += tasks.REGISTRY[name].check(config["data"][name], sizes)
    errors += variants.settings_errors(config)
    test = sizes["test"]
    if test < config["analysis"]["n_sequences"] and any(not tasks.REGISTRY[t].corpus for t in config["tasks"]):
        errors.append(
            f"analysis.n_sequences ({config['analysis']['n_sequences']}) exceeds data.sizes.test ({test}): "
            "the probe reads the test split"
        )
    return list(dict.fromkeys(errors))  # a setting shared by several tasks or variants is named once


def resolve(config: dict) -> tuple[dict, list[str]]:
    """The config with every default filled in, in one form whatever the order of its keys
    or the way its numbers are written (:func:`canonical`; a number the schema types
    ``number`` is a float), and notes on what was coerced; raises :class:`ConfigError`
    naming each offending key."""
    modules = config.get("task_modules") or []
    if not isinstance(modules, list) or not all(isinstance(m, str) for m in modules):
        raise ConfigError(f"task_modules: must be a list of module names, got {modules!r}")
    try:
        full = schema(modules)
    except ImportError as err:
        raise ConfigError(str(err)) from None
    notes: list[str] = []
    config = _coerce(config, full, full, "", notes)
    config = fill_defaults(config, full, full)
    errors = config_errors(config, full)
    if not errors:
        errors = cross_field_errors(config)
    if errors:
        raise ConfigError(
            "invalid config:\n  "
            + "\n  ".join(errors)
            + "\nFix these keys in config/config.yaml (or the file given with --configfile); "
            "config/README.md describes every key."
        )
    return canonical(config, full, full), notes


def task_seeds(config: dict, task: str) -> list[int]:
    """The seeds one task runs on: the first overrides.<task>.n_seeds of them, else all."""
    n = config.get("overrides", {}).get(task, {}).get("n_seeds")
    return list(config["seeds"][:n] if n else config["seeds"])


# ---------------------------------------------------------------------------- catalog


def _rows(node: dict, root: dict, path: str):
    node = resolve_ref(node, root)
    if path:
        kind = node.get("type", "enum" if "enum" in node else "")
        kinds = kind if isinstance(kind, list) else [kind]
        if "enum" in node:
            kind = "one of " + ", ".join(f"`{v}`" for v in node["enum"])
        elif "array" in kinds and "enum" in node.get("items", {}):
            kind = "list of " + ", ".join(f"`{v}`" for v in node["items"]["enum"])
            kind += " or null" if "null" in kinds else ""
        kind = " or ".join(kind) if isinstance(kind, list) else kind
        default = (
            f"`{yaml.safe_dump(node['default'], default_flow_style=True, width=1000).strip().removesuffix(chr(10) + '...')}`"
            if "default" in node
            else ""
        )
        yield f"| `{path}` | {kind} | {default} | {node.get('description', '').strip()} |"
    for key, sub in node.get("properties", {}).items():
        yield from _rows(sub, root, f"{path}.{key}" if path else key)
    entry = node.get("additionalProperties")
    if "x-key" in node and isinstance(entry, dict):  # a map of named blocks: one row per key of a block
        for key, sub in resolve_ref(entry, root).get("properties", {}).items():
            yield from _rows(
                {k: v for k, v in resolve_ref(sub, root).items() if k != "properties"},
                root,
                f"{path}.<{node['x-key']}>.{key}",
            )


def catalog_markdown(task_modules=()) -> str:
    """config/README.md: every key of the schema with its type, default and description."""
    full = schema(task_modules)
    return "\n".join(
        [
            "# Configuration",
            "",
            "Generated from the schema (`python -m attend.config > config/README.md`; a test checks",
            "it is current). Every key has the default shown; a config file lists only what differs.",
            "`config/config.yaml` is the default replication, `config/smoke.yaml` the tiny CI run",
            "(merged over it). Keys marked (choice) are this project's choices where the paper's text",
            "was not available (docs/science.md §7).",
            "",
            "| key | type | default | description |",
            "|---|---|---|---|",
            *_rows(full, full, ""),
            "",
        ]
    )


# ---------------------------------------------------------------------------- check


WORKFLOW_CONFIG = "config/config.yaml"  # the Snakefile's own configfile, read before any --configfile


def read_config_file(path: str | Path) -> dict:
    """One config file, its YAML errors naming the file, line and column (Snakemake's own
    reader says only "Config file is not valid JSON or YAML", whichever of several files it is)."""
    path = Path(path)
    try:
        loaded = yaml.safe_load(path.read_text())
    except OSError as err:
        raise ConfigError(f"{path}: {err.strerror}") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}{where}: not valid YAML ({getattr(err, 'problem', None) or err})") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(
            f"{path}: a config file is a mapping of keys (config/README.md), found {type(loaded).__name__}"
        )
    return loaded


def check_main(argv: list[str] | None = None, prog: str = "attend check-config") -> int:
    """``attend check-config FILE...``: each file read as YAML (errors name file, line and
    column), then merged in order over config/config.yaml's defaults as the workflow merges
    --configfile files, and checked like the workflow checks it (errors name each key)."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog=prog, description=check_main.__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", help="config files, in the order given to --configfile")
    args = parser.parse_args(argv)
    # The Snakefile reads config/config.yaml first, then every --configfile over it.
    files = [WORKFLOW_CONFIG] if Path(WORKFLOW_CONFIG).is_file() and WORKFLOW_CONFIG not in args.files else []
    files += args.files
    merged_config: dict = {}
    try:
        for path in files:
            merged_config = variants.merged(merged_config, read_config_file(path))
        resolve(merged_config)
    except ConfigError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 1
    print(f"{' then '.join(files)}: a valid config")
    return 0


if __name__ == "__main__":
    print(catalog_markdown(), end="")
