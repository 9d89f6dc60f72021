# Config validation, target lists and helpers shared by every rule file.

import yaml
from snakemake.utils import validate

from attend.config import config_errors, task_settings
from attend.gpu import detect_gpus

SCHEMA = workflow.source_path("../schemas/config.schema.yaml")


def check_config():
    """Validate against the schema (which also fills nothing in: every key is explicit);
    on failure, name every offending key path."""
    try:
        validate(config, SCHEMA)
    except WorkflowError:
        with open(SCHEMA) as fh:
            lines = config_errors(config, yaml.safe_load(fh))
        raise WorkflowError(
            "invalid config:\n  " + "\n  ".join(lines)
            + "\nFix these keys in config/config.yaml (or the file given with --configfile)."
        ) from None


check_config()

TASKS = config["tasks"]
ARCHS = config["architectures"]
SEEDS = config["seeds"]
ATTENTION_ARCHS = [a for a in ARCHS if a != "ved"]

# Training jobs ask for one GPU when the machine (or ATTEND_FAKE_GPUS) has any; cap how
# many run at once with `--resources gpu=N` (the local profile does, see README).
GPUS = detect_gpus()
TRAIN_GPUS = 1 if GPUS else 0
FIRST_SEED = SEEDS[0]


wildcard_constraints:
    task="|".join(TASKS),
    arch="|".join(ARCHS),
    seed=r"\d+",


DATA = "results/data/{task}/seed{seed}"
MODEL = "results/models/{task}/{arch}/seed{seed}"
PROBE = "results/probes/{task}/{arch}/seed{seed}"
ANALYSIS = "results/analysis/{task}/{arch}/seed{seed}"


def model_runs(tasks=None, archs=None, seeds=None):
    """Every (task, arch, seed) triple of the config, optionally restricted."""
    return [
        dict(task=t, arch=a, seed=s)
        for t in (tasks or TASKS)
        for a in (archs or ARCHS)
        for s in (seeds or SEEDS)
    ]


def expand_runs(pattern, **restrict):
    return [pattern.format(**run) for run in model_runs(**restrict)]


def settings(task):
    return task_settings(config, task)


def all_targets():
    """Every figure and table of the config."""
    return (
        expand("figures/{figure}.{ext}", figure=FIGURES, ext=["pdf", "png"])
        + expand("results/tables/{table}{suffix}.csv", table=TABLES, suffix=["", "_summary"])
        + rules.claims.output
    )
