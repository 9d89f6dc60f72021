# Config checks, the registries, target lists and every helper function of the rules.
# Every name below (tasks, architectures, tables, figures) comes from its one declaration
# in the attend package; the rule files only use them.

from attend.analysis.measure import TABLE_COLUMNS
from attend.config import ConfigError, resolve
from attend.config import task_seeds
from attend.config import task_settings as settings_of
from attend.gpu import detect_gpus
from attend.plotting import figures
from attend.provenance import code_version
from attend.tables import MODEL_FILES, TABLES
from attend.tasks import REGISTRY


def checked_config(raw):
    """The config with every default filled in, checked against the schema and across
    keys; errors name each key path (see config/README.md)."""
    try:
        resolved, notes = resolve(raw)
    except ConfigError as err:
        raise WorkflowError(str(err)) from None
    for note in notes:
        logger.info(f"config: {note}")
    return resolved


resolved = checked_config(dict(config))
config.clear()
config.update(resolved)

TASKS = config["tasks"]
ARCHS = config["architectures"]
SEEDS = config["seeds"]
FIGURES = figures()
MEASURE_TABLES = list(TABLE_COLUMNS)

# Training jobs ask for one GPU slot when the machine (or ATTEND_FAKE_GPUS) has a GPU; the
# local profile caps the slots at devices x ATTEND_SLOTS_PER_GPU (README, GPUs).
TRAIN_GPUS = 1 if detect_gpus() else 0


wildcard_constraints:
    task="|".join(TASKS),
    arch="|".join(ARCHS),
    seed=r"\d+",
    table="|".join(TABLES),


DATA = "results/data/{task}/seed{seed}"
MODEL = "results/models/{task}/{arch}/seed{seed}"
PROBE = "results/probes/{task}/{arch}/seed{seed}"
ANALYSIS = "results/analysis/{task}/{arch}/seed{seed}"


# ---------------------------------------------------------------------------- settings


def task_settings(task):
    """(model, train) of one task: the defaults with overrides.<task> merged in."""
    return settings_of(config, task)


def data_settings(wildcards):
    """The data settings one task's dataset depends on, and nothing else: changing
    another task's block reruns nothing here."""
    task = REGISTRY[wildcards.task]
    settings = {wildcards.task: config["data"][wildcards.task]}
    if not task.corpus:  # a corpus task's split sizes come from its corpus
        settings["sizes"] = config["data"]["sizes"]
    return settings


def corpus_input(wildcards):
    return rules.corpus.output.text if REGISTRY[wildcards.task].corpus else []


def dataset_code(wildcards):
    return code_version(REGISTRY[wildcards.task].module)


# ---------------------------------------------------------------------------- runs


def model_runs(tasks=None, archs=None, seeds=None):
    """Every (task, arch, seed) of the config, optionally restricted."""
    return [
        dict(task=t, arch=a, seed=s)
        for t in TASKS
        if tasks is None or t in tasks
        for a in ARCHS
        if archs is None or a in archs
        for s in task_seeds(config, t)
        if seeds is None or s in seeds
    ]


def table_runs(table):
    """[{task, arch, seed, path}]: the per-model file behind each row group of a table."""
    if table in MODEL_FILES:
        pattern = f"{MODEL}/{MODEL_FILES[table]}"
    else:
        pattern = f"{ANALYSIS}/{table}.csv"
    return [dict(run, path=pattern.format(**run)) for run in model_runs()]


def table_inputs(wildcards):
    return [run["path"] for run in table_runs(wildcards.table)]


def table_params(wildcards):
    return table_runs(wildcards.table)


# ---------------------------------------------------------------------------- figures


def figure_models(name):
    """The configured models a figure draws, as {"task/arch": analysis.npz} of the task's
    first seed (figures that draw one example model say which seed)."""
    return {
        f"{t}/{a}": f"{ANALYSIS}/analysis.npz".format(
            task=t, arch=a, seed=task_seeds(config, t)[0]
        )
        for t, a in FIGURES[name].pairs(TASKS, ARCHS)
    }


def figure_tables(name):
    """The aggregated tables a figure reads, and its per-seed tables: for those, every
    seed's CSV of the figure's own models, by "task/arch/seed"."""
    tables = {table: f"results/tables/{table}.csv" for table in FIGURES[name].tables}
    pairs = FIGURES[name].pairs(TASKS, ARCHS)
    for table in FIGURES[name].seed_tables:
        tables[table] = {
            f"{t}/{a}/{s}": f"{ANALYSIS}/{table}.csv".format(task=t, arch=a, seed=s)
            for t, a in pairs
            for s in task_seeds(config, t)
        }
    return tables


def figure_table_files(name):
    """Every file of :func:`figure_tables`, as the figure rule's input."""
    files = []
    for value in figure_tables(name).values():
        files += list(value.values()) if isinstance(value, dict) else [value]
    return files


def figure_settings(name):
    """The config values a figure shows, by dotted key path."""
    out = {}
    for path in FIGURES[name].settings:
        value = config
        for part in path.split("."):
            value = value[part]
        out[path] = value
    return out


# ---------------------------------------------------------------------------- targets


def all_targets():
    """Every figure and table of the config, and the claims."""
    return (
        expand("figures/{figure}.{ext}", figure=FIGURES, ext=["pdf", "png"])
        + expand(
            "results/tables/{table}{suffix}.csv", table=TABLES, suffix=["", "_summary"]
        )
        + ["results/tables/claims.csv", "results/claims.md"]
    )
