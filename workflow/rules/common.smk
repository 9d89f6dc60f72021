# Config checks, the registries, target lists and every helper function of the rules.
# Every name below (tasks, architectures, tables, figures) comes from its one declaration
# in the attend package; the rule files only use them.

import os
from pathlib import Path

from attend.architectures import ARCHITECTURES
from attend.config import ConfigError, resolve, task_seeds
from attend.gold_alignment import applies as gold_applies
from attend.table_layout import GOLD_TABLE_COLUMNS, TABLE_COLUMNS
from attend.variant_comparison import COMPARISON_TABLES
from attend.variants import (
    model_identity,
    model_owner,
    model_settings_read,
    variant_dir,
    variant_models,
    variant_names,
)
from attend.gpu import backend_environment, detect_gpus
from attend.plotting import figures
from attend.provenance import ROOT as PACKAGE_ROOT, code_version, source_files
from attend.tables import GOLD_FOLDER, MODEL_FILES, TABLES
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


def config_origin():
    """Which config files this run read, in the order they were merged (later winning), and
    any --config values: Snakemake keeps only the last of several --configfile flags, so the
    log says what was read (docs/operations.md, "Configs")."""
    given = [str(Path(f)) for f in workflow.config_settings.configfiles]
    absolute = {str(Path(f).absolute()) for f in given}
    own = [
        str(f) for f in workflow.configfiles if str(Path(f).absolute()) not in absolute
    ]
    files = " then ".join([*own, *given])
    extra = workflow.config_settings.config
    overrides = f", then --config {dict(extra)}" if extra else ""
    return f"config: read {files}{overrides} (later ones win)"


logger.info(config_origin())
resolved = checked_config(dict(config))
config.clear()
config.update(resolved)

# Every job inherits the Keras backend and one CPU thread (training jobs reset their
# threads from execution.threads); the workflow process itself never imports Keras.
os.environ.update(backend_environment(config["backend"], 1))

TASKS = config["tasks"]
ARCHS = config["architectures"]
SEEDS = config["seeds"]
# Variants (docs/variants.md): base, then the config's ablations, each a branch of the DAG
# whose models, probes, analyses, tables and claims live under results/{branch}, its
# folder: "" for base (today's paths), "variants/<name>/" for the others.
VARIANTS = variant_names(config)
BRANCHES = {v: variant_dir(v) for v in VARIANTS}
COMPARED = len(VARIANTS) > 1  # the comparison of variants (tables, figure 11) needs two
# (task, arch) of every model base runs: each architecture on its own tasks
BASE_MODELS = variant_models(config, "base")
FIGURES = {
    name: figure
    for name, figure in figures().items()
    if COMPARED or not set(figure.tables) & set(COMPARISON_TABLES)
}
MEASURE_TABLES = list(TABLE_COLUMNS)
GOLD_TABLES = list(GOLD_TABLE_COLUMNS)
# (task, arch) of every model, of any variant, probed on the gold word alignments
# (docs/science.md §4.9): the gold rules' wildcard constraints.
GOLD_MODELS = {
    (t, a) for v in VARIANTS for t, a in variant_models(config, v) if gold_applies(t, a)
}
GOLD_TASKS = "|".join(sorted({t for t, _ in GOLD_MODELS}))
GOLD_ARCHS = "|".join(sorted({a for _, a in GOLD_MODELS}))

# Training jobs ask for one GPU slot when the machine (or ATTEND_FAKE_GPUS) has a GPU; the
# local profile caps the slots at devices x ATTEND_SLOTS_PER_GPU (docs/operations.md, GPUs).
TRAIN_GPUS = 1 if detect_gpus() else 0


wildcard_constraints:
    task="|".join(TASKS),
    arch="|".join(ARCHS),
    seed=r"\d+",
    table="|".join(TABLES),
    # "" (base) or one configured variant's folder; as a regex that is never empty itself
    branch="(?:" + "|".join(b for b in BRANCHES.values() if b) + ")?",


DATA = "results/data/{task}/seed{seed}"  # shared by every variant
MODEL = "results/{branch}models/{task}/{arch}/seed{seed}"
PROBE = "results/{branch}probes/{task}/{arch}/seed{seed}"
ANALYSIS = "results/{branch}analysis/{task}/{arch}/seed{seed}"
TABLE_DIR = "results/{branch}tables"
GOLD_DATA = "results/data/gold_alignment"  # the gold files, shared by every model
GOLD_PROBE = f"{PROBE}/gold_probe.npz"
GOLD_ANALYSIS = f"{ANALYSIS}/{GOLD_FOLDER}"


# ---------------------------------------------------------------------------- settings


def variant_of(wildcards):
    """The variant whose branch a job is on, from its {branch} wildcard."""
    return next(v for v, b in BRANCHES.items() if b == wildcards.branch)


def job_settings(wildcards):
    """(model, train) of a job's task and architecture in its variant: the defaults, the
    architecture's own (arch_overrides.<arch>), the variant's model/train,
    overrides.<task>, the variant's overrides.<task> (later wins); without the model
    settings the architecture never reads (Architecture.ignores), so changing one of those
    (arch_overrides.aed.model.heads) retrains nothing."""
    return model_settings_read(
        config, wildcards.task, wildcards.arch, variant_of(wildcards)
    )


def made_by(wildcards):
    """What made the model of a job on a branch: the branch's variant and the digest of the
    settings the model reads. The training job records it in the model (and so in its probe
    and analysis); the probe and measure jobs check it, so a file copied from another
    variant's branch is refused by name."""
    return model_identity(config, wildcards.task, wildcards.arch, variant_of(wildcards))


def variant_identities(variant):
    """{"task/arch": what made that model} for every model a variant's tables hold (a model
    shared with an earlier variant was made on that one's branch)."""
    return {
        f"{t}/{a}": model_identity(config, t, a, model_owner(config, t, a, variant))
        for t, a in variant_models(config, variant)
    }


def data_settings(wildcards):
    """The data settings one task's dataset depends on, and nothing else: changing
    another task's block reruns nothing here."""
    task = REGISTRY[wildcards.task]
    settings = {wildcards.task: config["data"][wildcards.task]}
    if not task.corpus:  # a corpus task's split sizes come from its corpus
        settings["sizes"] = config["data"]["sizes"]
    return settings


def train_priority(wildcards):
    """Corpus tasks' models (translation) take longest: start them first, so that on a few
    cores they do not run alone at the end (scheduling only; it changes no result)."""
    return 1 if REGISTRY[wildcards.task].corpus else 0


def corpus_input(wildcards):
    return rules.corpus.output.text if REGISTRY[wildcards.task].corpus else []


# ---------------------------------------------------------------------------- code


def run_time_modules(step, wildcards):
    """The modules a rule's script imports by name at run time, declared by the params it
    reads them from: `module` (a figure's module) and, where it loads the task registry
    (`task_modules`), the modules that generate the tasks: its job's own task alone (a job
    of one {task}) or every configured task."""
    params = dict(step.params.items())
    modules = [params["module"]] if "module" in params else []
    if "task_modules" in params:
        tasks = [wildcards.task] if "task" in step.wildcard_names else TASKS
        modules += [REGISTRY[t].module for t in tasks]
    if "arch" in step.wildcard_names and MODELS_PACKAGE in script_modules(step):
        # its architecture's model module, which attend.models imports by name
        modules.append(ARCHITECTURES[wildcards.arch].model_module)
    return modules


MODELS_PACKAGE = "models/__init__.py"


def script_modules(step):
    """The package files a rule's script reaches through its imports (as posix paths
    relative to the package)."""
    script = step.basedir.join(step.script).get_path_or_uri(secret_free=True)
    return {
        p.relative_to(PACKAGE_ROOT).as_posix()
        for p in source_files(Path(script).resolve())
        if p.is_relative_to(PACKAGE_ROOT)
    }


def add_code_params():
    """Give every rule that runs a script its `code` param (call it once every rule is
    defined): the code version of the script and of every attend module it imports,
    directly or through other modules, and of its run-time modules (attend.provenance).
    Nothing is listed by hand, so a module a script comes to import counts at once.
    Content decides, not modification time: the profiles turn Snakemake's `code` rerun
    trigger (script mtime against outputs) off, so a fresh clone beside a copied results
    tree reruns nothing while the code is the same."""

    def code_param(step, script):
        return lambda wildcards: code_version(
            script, *run_time_modules(step, wildcards)
        )

    for step in workflow.rules:
        if step.is_script:
            script = step.basedir.join(step.script).get_path_or_uri(secret_free=True)
            step.set_params(code=code_param(step, Path(script).resolve()))


# ---------------------------------------------------------------------------- runs


def model_runs(tasks=None, archs=None, seeds=None, variant="base"):
    """Every (task, arch, seed) of a variant (base: the config's), each architecture on its
    own tasks (arch_overrides.<arch>.tasks), optionally restricted."""
    return [
        dict(task=t, arch=a, seed=s)
        for t, a in variant_models(config, variant)
        if (tasks is None or t in tasks) and (archs is None or a in archs)
        for s in task_seeds(config, t)
        if seeds is None or s in seeds
    ]


def model_table(table):
    """The path pattern of one model's CSV of a measurement table: beside its analysis, or
    beside its gold probe's analysis (a table of the gold probe)."""
    return f"{GOLD_ANALYSIS if table in GOLD_TABLES else ANALYSIS}/{table}.csv"


def has_table(table, task, arch):
    """Whether the model of task and arch has a file of ``table``: a gold probe's table only
    the models probed on the gold alignments; every other table every model."""
    return table not in GOLD_TABLES or gold_applies(task, arch)


def table_runs(table, variant="base"):
    """[{task, arch, seed, path}]: the per-model file behind each row group of a table."""
    if table in MODEL_FILES:
        pattern = f"{MODEL}/{MODEL_FILES[table]}"
    else:
        pattern = model_table(table)
    # A model the variant shares with an earlier variant (model_owner) is read from there,
    # and its files record that variant (identity).
    runs = []
    for run in model_runs(variant=variant):
        if not has_table(table, run["task"], run["arch"]):
            continue
        owner = model_owner(config, run["task"], run["arch"], variant)
        path = pattern.format(branch=BRANCHES[owner], **run)
        identity = model_identity(config, run["task"], run["arch"], owner)
        runs.append(dict(run, path=path, identity=identity))
    return runs


# The file beside a per-model file that records its checksum and identity
# (attend.artifacts.check_model_file): the table job reads it too.
BESIDE = {"train_log.csv": "metrics.json", ".csv": "analysis.npz"}


def table_inputs(wildcards):
    files = []
    for run in table_runs(wildcards.table, variant_of(wildcards)):
        path = Path(run["path"])
        beside = BESIDE.get(path.name, BESIDE.get(path.suffix))
        files += [run["path"]] + ([str(path.with_name(beside))] if beside else [])
    return files


def table_params(wildcards):
    return table_runs(wildcards.table, variant_of(wildcards))


def variant_tables(table):
    """{variant: its aggregated table} of every variant, for the comparison tables."""
    return {v: f"{TABLE_DIR}/{table}.csv".format(branch=b) for v, b in BRANCHES.items()}


# ---------------------------------------------------------------------------- figures


def figure_pairs(name):
    """The (task, arch) pairs a figure draws that base runs (an architecture on its own
    tasks only)."""
    return [p for p in FIGURES[name].pairs(TASKS, ARCHS) if p in BASE_MODELS]


def figure_models(name):
    """The configured models a figure draws, as {"task/arch": analysis.npz} of the task's
    first seed (figures that draw one example model say which seed)."""
    return {
        f"{t}/{a}": f"{ANALYSIS}/analysis.npz".format(
            branch="", task=t, arch=a, seed=task_seeds(config, t)[0]
        )
        for t, a in figure_pairs(name)
    }


def figure_tables(name):
    """The aggregated tables a figure reads, and its per-seed tables: for those, every
    seed's CSV of the figure's own models, by "task/arch/seed"."""
    tables = {table: f"results/tables/{table}.csv" for table in FIGURES[name].tables}
    pairs = figure_pairs(name)
    for table in FIGURES[name].seed_tables:
        tables[table] = {
            f"{t}/{a}/{s}": model_table(table).format(branch="", task=t, arch=a, seed=s)
            for t, a in pairs
            if has_table(table, t, a)
            for s in task_seeds(config, t)
        }
    return tables


def figure_expect(name):
    """{per-model file: the model it must belong to} for every analysis.npz and per-seed CSV
    a figure reads (all of base's branch): the figure job checks them before drawing."""
    expect = {}
    for key, path in figure_models(name).items():
        task, arch = key.split("/")
        seed = task_seeds(config, task)[0]
        expect[path] = dict(
            task=task, arch=arch, seed=seed, **model_identity(config, task, arch)
        )
    for table, value in figure_tables(name).items():
        if isinstance(value, dict):
            for run, path in value.items():
                task, arch, seed = run.split("/")
                expect[path] = dict(
                    task=task,
                    arch=arch,
                    seed=int(seed),
                    **model_identity(config, task, arch),
                )
    return expect


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


# ---------------------------------------------------------------------------- docs


def docs_tables():
    """The base run's tables docs/results.md is written from (and the variants compared)."""
    names = ["accuracy", "approximation", "term_shares", "gold_alignment", "claims"]
    names += ["variant_claims"] if COMPARED else []
    return {name: f"results/tables/{name}.csv" for name in names}


def train_benchmarks():
    """[{task, arch, seed, path}]: the benchmark file of every base training job."""
    return [
        dict(run, path="benchmarks/train/{task}/{arch}/seed{seed}.tsv".format(**run))
        for run in model_runs()
    ]


def run_summary():
    """What docs/results.md says about the run: its grid and backend."""
    fewer = [
        f"{t}: {len(task_seeds(config, t))}"
        for t in TASKS
        if len(task_seeds(config, t)) < len(SEEDS)
    ]
    return {
        "tasks": TASKS,
        "architectures": ARCHS,
        "seeds": SEEDS,
        "backend": config["backend"],
        "fewer_seeds": (
            f" ({', '.join(fewer)} seed{'s' if len(fewer) != 1 else ''} only)"
            if fewer
            else ""
        ),
    }


# ---------------------------------------------------------------------------- targets


def all_tables():
    """Every variant's tables and claims, and their comparison (with two variants or more)."""
    return (
        expand(
            "results/{branch}tables/{table}{suffix}.csv",
            branch=BRANCHES.values(),
            table=TABLES,
            suffix=["", "_summary"],
        )
        + expand(
            ["results/{branch}tables/claims.csv", "results/{branch}claims.md"],
            branch=BRANCHES.values(),
        )
        + (
            expand("results/tables/{table}.csv", table=COMPARISON_TABLES)
            if COMPARED
            else []
        )
    )


def all_targets():
    """Every figure of the config (base), every variant's tables and claims, their
    comparison, and any file that is gone while files made from it are still there."""
    targets = (
        expand("figures/{figure}.{ext}", figure=FIGURES, ext=["pdf", "png"])
        + all_tables()
    )
    return targets + remade_intermediates(targets)


# ---------------------------------------------------------------------------- missing intermediates
# Snakemake does not remake a file that is gone while the files made from it are still
# there (it treats it as a spent intermediate), so after deleting, say, one model's analysis
# folder, a run would say "Nothing to be done" while the tables keep numbers no file backs.
# So at every DAG build the workflow lists each such file (missing, while an output of a
# job that reads it exists) and puts it among the default target's inputs: a plain
# `snakemake` makes it again, and the mtime trigger then reruns everything made from it
# (docs/troubleshooting.md, "Missing intermediates").


def _producers(path):
    """(rule, wildcards) of every rule whose output patterns match a file."""
    for step in workflow.rules:
        for pattern in step.output:
            match = pattern.match(path)
            if match:
                yield step, match.groupdict()
                break


def _jobs(targets):
    """(inputs, outputs) of every job the targets rest on, as lists of paths: the edges
    along which one file rests on another, found as Snakemake finds them, from the rules
    themselves: from a file to the rule whose output pattern matches it, its wildcards,
    and that job's input (input functions included), back from the targets (call it once
    the rules exist). A rule added anywhere in the graph is walked through without a word
    here."""
    todo, seen, done = list(targets), set(targets), set()
    while todo:
        for step, wildcards in _producers(todo.pop()):
            job = (step.name, tuple(sorted(wildcards.items())))
            if job in done:
                continue
            done.add(job)
            inputs = [str(f) for f in step.expand_input(wildcards)[0]]
            yield inputs, [str(f) for f in step.expand_output(wildcards)[0]]
            todo += [f for f in inputs if f not in seen]
            seen.update(inputs)


def missing_intermediates(targets):
    """{missing file: an existing file made from it}, for the files the targets rest on
    that are gone while something made from them is still there."""
    exists = {}

    def there(path):
        if path not in exists:
            exists[path] = os.path.exists(path)
        return exists[path]

    missing = {}
    for inputs, outputs in _jobs(targets):
        made = next((o for o in outputs if there(o)), None)
        if made:
            missing.update(
                {i: made for i in inputs if i not in missing and not there(i)}
            )
    return missing


def remade_intermediates(targets):
    """The missing intermediates of the targets, named in a warning: the default target's
    extra inputs.
    (Whether a run names targets of its own is not known while the Snakefile is read, so the
    warning says what each kind of run does.)"""
    missing = missing_intermediates(targets)
    if missing:
        lines = [f"  {path} (made into {made})" for path, made in missing.items()]
        if len(lines) > 12:
            lines = lines[:12] + [f"  ... and {len(missing) - 12} more"]
        logger.warning(
            f"files that are gone while files made from them are still there ({len(missing)}):\n"
            + "\n".join(lines)
            + "\nA run without targets (`snakemake --cores all` with your --configfile options) makes them "
            "again and reruns what was made from them; a run of named targets does not "
            "(docs/troubleshooting.md, 'Missing intermediates')."
        )
    return list(missing)
