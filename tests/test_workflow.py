"""The workflow itself: config checks before any job (dry runs), the plan of one figure, a
sixth task declared by one module and one config block, results that follow the code, and
the smoke config end to end."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from test_analyse import check_every_probe_analyses
from test_docs import assert_document_holds
from test_provenance import imported_directly

from attend import provenance
from attend.artifacts import read_table
from attend.claims import CHECKS, SCOPES
from attend.config import defaults, resolve, task_seeds
from attend.gold_alignment import applies
from attend.plotting import figures
from attend.table_layout import GOLD_TABLE_COLUMNS, TABLE_COLUMNS
from attend.tables import TABLES
from attend.variants import merged, model_owner, variant_models, variant_names

# Every test here launches Snakemake (tests/conftest.py): the slow tier.
pytestmark = pytest.mark.slow

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
SMOKE = ["--configfile", "config/smoke.yaml", "paths.yaml"]


def planned_models(
    root: Path,
    *configs: str,
    task: str | None = None,
    variant: str | None = None,
    gold: bool = False,
    arch: str | None = None,
) -> int:
    """How many models (training jobs) config/config.yaml with ``configs`` merged over it
    plans, from the config: every variant's tasks × architectures, each architecture on its
    own tasks (arch_overrides.<arch>.tasks), each task on its seeds, a model shared by two
    variants once; or those of one task or variant; with ``gold``, those probed on the gold
    word alignments (attend.gold_alignment.applies: translation models with attention)."""
    config = yaml.safe_load((root / "config" / "config.yaml").read_text())
    for name in configs:
        config = merged(config, yaml.safe_load((root / name).read_text()) or {})
    resolved, _ = resolve(config)
    made = {
        (model_owner(resolved, t, a, v), t, a)
        for v in variant_names(resolved)
        for t, a in variant_models(resolved, v)
        if task in (None, t) and arch in (None, a) and (not gold or applies(t, a))
    }
    return sum(len(task_seeds(resolved, t)) for owner, t, _ in made if variant in (None, owner))


def test_snakemake_lint_is_clean():
    """The ecosystem's own checks: conda directives, logs, no functions among rules..."""
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--lint", "--cores", "1"], cwd=REPO, capture_output=True, text=True
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0 and "Lints for" not in out, out[-4000:]


def test_snakefmt_check_is_clean():
    """The workflow is formatted as `snakefmt workflow/ Snakefile` would format it."""
    snakefmt = Path(sys.executable).with_name("snakefmt")
    result = subprocess.run(
        [str(snakefmt), "--check", "workflow/", "Snakefile"], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "override, named",
    [
        ("tasks: [one_to_one, bogus]", "tasks.1: 'bogus' is not one of"),
        ("train: {max_stepz: 5}", "train: Additional properties are not allowed ('max_stepz' was unexpected)"),
        ("data: {one_to_one: {min_len: 30}}", "data.one_to_one: min_len (30) must not exceed max_len (25)"),
    ],
)
def test_bad_config_fails_before_any_job_naming_the_key(workflow, override, named):
    (workflow.root / "bad.yaml").write_text(override + "\n")
    result = workflow.run("-n", "--cores", "1", "--configfile", "bad.yaml")
    assert result.returncode != 0
    assert named in result.stdout + result.stderr
    assert not (workflow.root / "results").exists()


def test_seeds_given_on_the_command_line(workflow):
    """`--config seeds=[0,1,2]`, as the README says: Snakemake reads the numbers as strings,
    which the config check turns into integers (saying so)."""
    result = workflow.run("-n", "--cores", "1", "--config", "seeds=[0,1,2]", "--quiet", "rules")
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    assert "seeds.0: read the string '0' as the integer 0" in out
    jobs = workflow.planned("--config", "seeds=[0,1,2]")
    # Four tasks on three seeds; translation on the one config.yaml gives it (overrides.translation.n_seeds).
    assert jobs["train"] == 4 * 3 * 3 + 3 and jobs["dataset"] == 4 * 3 + 1


def test_one_figure_plans_only_its_ancestors(workflow):
    """Figure 3 draws one_to_one with AO, its share bars over the three default seeds:
    those three runs and nothing of the other tasks or architectures."""
    jobs = workflow.planned("--", "figures/fig03_one_to_one_ao.pdf")
    assert jobs == {"dataset": 3, "train": 3, "probe": 3, "measure": 3, "fig03_one_to_one_ao": 1}
    assert workflow.planned("--config", "seeds=[4]", "--", "figures/fig03_one_to_one_ao.pdf")["train"] == 1


def test_a_sixth_task_is_one_module_and_one_config_block(make_workflow):
    """tests/toy_task.py registers a task; a config block runs it everywhere."""
    copy = make_workflow([TESTS])
    (copy.root / "toy.yaml").write_text(
        "task_modules: [toy_task]\n"
        "tasks: [one_to_one, reverse, sort, escan, translation, toy]\n"
        "data: {toy: {vocab_size: 6, min_len: 4, max_len: 8}}\n"
    )
    jobs = copy.planned(*SMOKE, "toy.yaml")
    # base: 6 tasks × the smoke config's three archs, and tfm on one_to_one; its multihead variant: one_to_one × (AED, AO)
    models = planned_models(copy.root, "config/smoke.yaml", "toy.yaml")
    assert jobs["dataset"] == 6 and jobs["train"] == jobs["probe"] == jobs["measure"] == models
    assert all(jobs.get(name) == 1 for name in figures()), jobs
    toy = copy.planned(*SMOKE, "toy.yaml", "--", "figures/fig04_ved.pdf")
    assert toy["dataset"] == 6 and toy["train"] == 6, "figure 4 draws the VED of every task, the toy's too"


def test_the_gold_alignment_plan(workflow):
    """The aggregated gold_alignment table needs the gold files (fetched once), the gold probe
    and its measurement of every translation model with attention, and those models: no
    test-set probe, no VED. Figure 13 reads each model's own table; the claims the stacked one."""
    jobs = workflow.planned("--", "results/tables/gold_alignment.csv")
    n = planned_models(workflow.root, gold=True)
    assert jobs == {
        "corpus": 1,
        "dataset": 1,
        "train": n,
        "gold_alignments": 1,
        "gold_probe": n,
        "gold_measure": n,
        "table": 1,
    }, jobs
    outputs = workflow.outputs()
    probes = sorted(path for path, rule in outputs.items() if rule == "gold_probe")
    assert probes == [f"results/probes/translation/{a}/seed0/gold_probe.npz" for a in ("aed", "ao")]
    made = {path for path, rule in outputs.items() if rule == "gold_measure"}
    assert made == {
        f"results/analysis/translation/{a}/seed0/gold/{name}"
        for a in ("aed", "ao")
        for name in ("analysis.npz", "gold_alignment.csv")
    }
    assert {"results/data/gold_alignment/provenance.json", "results/tables/gold_alignment_summary.csv"} <= set(outputs)
    figure = workflow.planned("--", "figures/fig13_gold_alignment.pdf")  # (with its models' analyses, as every figure)
    assert figure["gold_measure"] == figure["measure"] == n and "claims" not in figure and "table" not in figure, figure
    assert workflow.planned("--", "results/claims.md")["gold_measure"] == n


def test_where_the_gold_files_come_from_reruns_the_gold_jobs_alone(pretended, tmp_path):
    """Another search folder fetches the gold files again, and the gold probes and what reads
    them rerun; nothing is trained. Another checksum reruns them too (it is what the probes
    check)."""
    workflow = pretended.copy(tmp_path / "copy")
    (workflow.root / "elsewhere.yaml").write_text("data: {gold_alignment: {search: [gold/]}}\n")
    jobs = workflow.planned(*SMOKE, "elsewhere.yaml")
    n = planned_models(workflow.root, "config/smoke.yaml", gold=True)
    assert jobs["gold_alignments"] == 1 and jobs["gold_probe"] == jobs["gold_measure"] == n, jobs
    assert not {"dataset", "train", "probe", "measure"} & set(jobs), jobs
    assert {"claims", "fig13_gold_alignment"} <= set(jobs) and jobs["table"] == 1, jobs


# ---------------------------------------------------------------------------- variants

ONE_VARIANT = "variants:\n  wide:\n    model: {units: 32}\n    tasks: [one_to_one, sort]\n"


def test_without_variants_the_plan_is_todays(workflow):
    """The default replication plans the same jobs and the same files with no variants,
    with only base written out, and with a variant added (besides that variant's branch
    and the comparison)."""
    jobs = workflow.planned()
    n_models = (4 * 3 + 1) * 3  # four tasks on three seeds, translation on one; three archs
    assert {rule: jobs[rule] for rule in ("dataset", "train", "probe", "measure", "table", "claims")} == {
        "dataset": 13,
        "train": n_models,
        "probe": n_models,
        "measure": n_models,
        "table": len(TABLES),
        "claims": 1,
    }
    assert jobs["gold_alignments"] == 1 and jobs["gold_probe"] == jobs["gold_measure"] == planned_models(
        workflow.root, gold=True
    )
    assert not {"variant_claims", "variant_shares", "fig11_variants"} & set(jobs)
    today = workflow.outputs()
    assert "results/models/sort/ao/seed2/model.keras" in today and "results/claims.md" in today
    assert not [path for path in today if "variant" in path]
    (workflow.root / "base.yaml").write_text("variants: {base: {}}\n")
    assert workflow.outputs("--configfile", "config/config.yaml", "base.yaml") == today
    (workflow.root / "wide.yaml").write_text(ONE_VARIANT)
    with_variant = workflow.outputs("--configfile", "config/config.yaml", "wide.yaml")
    added = {path: rule for path, rule in with_variant.items() if path not in today}
    assert {path: with_variant[path] for path in today} == today
    assert set(added.values()) == {
        "train",
        "probe",
        "measure",
        "table",
        "claims",
        "variant_claims",
        "variant_shares",
        "fig11_variants",
    }
    assert all(
        path.startswith("results/variants/wide/")
        for path, rule in added.items()
        if rule not in ("variant_claims", "variant_shares", "fig11_variants")
    )
    assert sum(rule == "train" for rule in added.values()) == 2 * 3 * 3 * 4  # 2 tasks × 3 archs × 3 seeds × 4 files


def test_the_transformer_config_adds_its_models_and_figure(workflow):
    """config/transformer.yaml: the default grid plus tfm on every task and seed (translation
    on one), with the same datasets; figure 12 draws its analyses."""
    config = ["--configfile", "config/config.yaml", "config/transformer.yaml"]
    jobs = workflow.planned(*config)
    assert jobs["dataset"] == 13 and jobs["train"] == jobs["probe"] == jobs["measure"] == (4 * 3 + 1) * 4
    assert jobs["gold_probe"] == planned_models(workflow.root, *config[2:], gold=True) == 3  # AED, AO, Transformer
    outputs = workflow.outputs(*config)
    assert "results/models/translation/tfm/seed0/model.keras" in outputs
    assert outputs["results/probes/translation/tfm/seed0/gold_probe.npz"] == "gold_probe"
    figure = workflow.planned(*config, "--", "figures/fig12_transformer.pdf")
    assert figure["train"] == 4 * 3 + 1 and figure["fig12_transformer"] == 1, figure


def test_the_ablations_plan(workflow):
    """config/ablations.yaml: seven variants × four tasks × three seeds, on the datasets of
    base; each variant trains only the architectures its change reaches and shares the
    rest (dot, multihead: AED and AO; lstm: VED and AED; ao_gru: AO; units: all three)."""
    jobs = workflow.planned("--configfile", "config/config.yaml", "config/ablations.yaml")
    assert jobs["dataset"] == 4 * 3
    assert jobs["train"] == jobs["probe"] == jobs["measure"] == (3 + 2 + 2 + 2 + 1 + 3 + 3) * 4 * 3
    trained = [
        p
        for p, rule in workflow.outputs("--configfile", "config/config.yaml", "config/ablations.yaml").items()
        if rule == "train" and p.endswith("model.keras")
    ]
    assert not [
        p for p in trained if p.startswith(("results/variants/dot/", "results/variants/ao_gru/")) and "/ved/" in p
    ], "dot attention and AO's map do not reach VED: base's VED models serve"
    assert len([p for p in trained if p.startswith("results/variants/ao_gru/")]) == 4 * 3
    assert jobs["table"] == 7 * len(TABLES) and jobs["claims"] == 7
    assert jobs["variant_claims"] == jobs["variant_shares"] == jobs["fig11_variants"] == 1


def test_editing_one_variant_reruns_its_branch_alone(workflow):
    """A variant's settings reach its jobs as params: changing its overrides plans that
    branch's models again and what reads them, nothing of base or of another variant."""
    config = ["--configfile", "config/config.yaml", "config/smoke.yaml", "paths.yaml", "two.yaml"]
    (workflow.root / "two.yaml").write_text(ONE_VARIANT)
    workflow.pretend_run(*config)
    assert workflow.planned(*config) == {}
    (workflow.root / "edit.yaml").write_text(
        "variants: {multihead: {overrides: {one_to_one: {train: {learning_rate: 0.002}}}}}\n"
    )
    jobs = workflow.planned(*config, "edit.yaml")
    assert jobs == {
        "train": 2,
        "probe": 2,
        "measure": 2,
        "table": len(TABLES) - len(GOLD_TABLE_COLUMNS),  # the variant has no translation model to probe on the gold
        "claims": 1,
        "variant_claims": 1,
        "variant_shares": 1,
        "fig11_variants": 1,
    }, jobs
    summary = workflow.run("-n", "--cores", "1", *config, "edit.yaml", "--summary").stdout
    rows = [line.split("\t") for line in summary.splitlines()]
    changed = {row[0] for row in rows if len(row) > 4 and row[4] == "params changed"}
    assert changed >= {
        f"results/variants/multihead/models/one_to_one/{arch}/seed0/{name}"
        for arch in ("aed", "ao")
        for name in ("metrics.json", "model.keras", "timing.json", "train_log.csv")
    }
    # Downstream jobs' params change too (the settings digest they check), all on the variant's branch.
    assert all(
        path.startswith("results/variants/multihead/") or path.startswith("results/tables/variant_") for path in changed
    ), sorted(changed)
    (workflow.root / "edit.yaml").write_text("variants: {wide: {model: {units: 48}}}\n")
    jobs = workflow.planned(*config, "edit.yaml")
    wide = planned_models(workflow.root, *config[2:], "edit.yaml", variant="wide")  # 2 tasks × the archs on each
    assert jobs["train"] == wide and jobs["claims"] == 1, jobs
    assert jobs["table"] == len(TABLES) - len(GOLD_TABLE_COLUMNS), jobs  # no translation: no gold table to remake


def test_the_log_says_which_config_files_were_read(workflow):
    """Snakemake keeps only the last of several --configfile flags; the run's log names every
    file it read, in the order they were merged, and --config values."""
    (workflow.root / "mine.yaml").write_text("seeds: [0]\n")
    result = workflow.run(
        "-n", "--cores", "1", "--configfile", "config/smoke.yaml", "mine.yaml", "--config", "backend=jax"
    )
    said = result.stdout + result.stderr
    assert result.returncode == 0, said[-3000:]
    assert (
        f"config: read config/config.yaml then {workflow.root / 'config' / 'smoke.yaml'} then "
        f"{workflow.root / 'mine.yaml'}, then --config {{'backend': 'jax'}} (later ones win)"
    ) in said, said[:3000]


def test_changing_the_backend_retrains(workflow):
    """The Keras backend draws the initial weights, so switching it plans every training
    (and what reads the models) again, but not the datasets."""
    config = ["--configfile", "config/config.yaml", "config/smoke.yaml", "paths.yaml"]
    fresh = workflow.planned(*config)
    workflow.pretend_run(*config)
    (workflow.root / "jax.yaml").write_text("backend: jax\n")
    jobs = workflow.planned(*config, "jax.yaml")
    assert jobs["train"] == fresh["train"] and jobs["probe"] == fresh["probe"], jobs
    assert "dataset" not in jobs and "corpus" not in jobs, jobs


def test_settings_are_compared_by_value(pretended, tmp_path):
    """Restating a default (1 for 1.0 too) or listing the keys in another order plans no
    job; a real change plans exactly the jobs it reaches."""
    workflow = pretended.copy(tmp_path / "copy")
    smoke = (workflow.root / "config" / "smoke.yaml").read_text()
    lines = smoke.splitlines()
    at = lines.index("train:")
    block = lines[at + 1 : at + 4]
    assert all(line.startswith("  ") for line in block), block
    (workflow.root / "config" / "smoke.yaml").write_text(
        "\n".join(lines[: at + 1] + block[::-1] + lines[at + 4 :]) + "\n"
    )
    (workflow.root / "same.yaml").write_text(
        "train: {learning_rate: 0.003, clipnorm: 1}\ndata: {translation: {min_count: 5}}\nmodel: {pe_timescale: 100}\n"
    )
    assert workflow.planned(*SMOKE, "same.yaml") == {}
    # A setting an architecture declares it ignores is not among its jobs' params: AED with
    # learned attention reads no heads, VED no attention (they retrained every AED before).
    (workflow.root / "ignored.yaml").write_text(
        "arch_overrides: {aed: {model: {heads: 3}}, ved: {model: {attention: dot}}}\n"
    )
    assert workflow.planned(*SMOKE, "ignored.yaml") == {}
    (workflow.root / "sort.yaml").write_text("overrides: {sort: {train: {clipnorm: 2}}}\n")
    jobs = workflow.planned(*SMOKE, "same.yaml", "sort.yaml")
    sort = planned_models(workflow.root, "config/smoke.yaml", task="sort")  # one seed: one job per architecture on sort
    assert jobs["train"] == jobs["probe"] == jobs["measure"] == sort and "dataset" not in jobs, jobs


# One task, two small models: what the local-profile tests train (seconds each).
TINY = """tasks: [one_to_one]
architectures: [aed, ao]
seeds: [0]
data: {sizes: {train: 500, valid: 50, test: 50}}
model: {units: 8}
train: {eval_every: 20, n_eval: 50, max_steps: 40}
analysis: {n_sequences: 50, n_samples: 2}
"""


def test_a_damaged_input_costs_no_trained_model(workflow):
    """A truncated dataset, then a run of the local profile (keep-going, as `make replicate`
    runs): the training jobs fail naming the file and the command that makes it again, and
    Snakemake deletes their outputs, but the models kept in checkpoint/finished/ survive.
    Once `--force` has made the dataset again (the same bytes), the next run restores the
    models instead of training them: the same bytes, in seconds."""
    (workflow.root / "tiny.yaml").write_text(TINY)
    local = ["--workflow-profile", "workflow/profiles/local", "--cores", "1", "--configfile", "tiny.yaml"]
    folders = [f"results/models/one_to_one/{arch}/seed0" for arch in ("aed", "ao")]
    targets = ["--", *(f"{folder}/model.keras" for folder in folders)]
    first = workflow.run(*local, *targets)
    assert first.returncode == 0, first.stderr[-3000:]
    made = {
        f"{folder}/{name}": (workflow.root / folder / name).read_bytes()
        for folder in folders
        for name in ("model.keras", "train_log.csv", "metrics.json")
    }

    dataset = "results/data/one_to_one/seed0/dataset.npz"
    intact = (workflow.root / dataset).read_bytes()
    os.truncate(workflow.root / dataset, 1000)
    failed = workflow.run(*local, *targets)
    out = failed.stdout + failed.stderr
    assert failed.returncode != 0
    assert out.count(f"{dataset}: not a readable dataset") >= 2 and f"--force {dataset}" in out, out[-3000:]
    assert not any((workflow.root / path).exists() for path in made), "Snakemake deletes a failed job's outputs"
    assert all((workflow.root / folder / "checkpoint" / "finished" / "model.keras").exists() for folder in folders)

    forced = workflow.run("--cores", "1", "--configfile", "tiny.yaml", "--force", dataset)
    assert forced.returncode == 0, forced.stderr[-3000:]
    assert (workflow.root / dataset).read_bytes() == intact
    again = workflow.run(*local, *targets)
    assert again.returncode == 0, again.stderr[-3000:]
    assert {path: (workflow.root / path).read_bytes() for path in made} == made
    for arch in ("aed", "ao"):
        log = (workflow.root / "logs" / "train" / "one_to_one" / arch / "seed0.log").read_text()
        assert "restored model.keras, train_log.csv, metrics.json from" in log and "step " not in log, log[-2000:]


def test_missing_intermediates_are_made_again(pretended, tmp_path):
    """Snakemake leaves a file alone that is gone while what was made from it is there; the
    default target makes it again (saying so), and what was made from it reruns. A run of
    one's own targets names such files and the command instead."""
    workflow = pretended.copy(tmp_path / "analysis")
    shutil.rmtree(workflow.root / "results" / "analysis" / "reverse" / "ao")
    result = workflow.run("-n", "--cores", "1", *SMOKE)
    said = result.stdout + result.stderr
    assert f"files that are gone while files made from them are still there ({1 + len(TABLE_COLUMNS)})" in said
    assert "results/analysis/reverse/ao/seed0/variance.csv (made into results/tables/variance.csv)" in said
    jobs = workflow.planned(*SMOKE)
    assert jobs["measure"] == 1 and "train" not in jobs and "probe" not in jobs, jobs
    assert jobs["claims"] == 1 and jobs["table"] >= 8 and "fig06_summary" in jobs, jobs

    workflow = pretended.copy(tmp_path / "table")
    (workflow.root / "results" / "tables" / "term_shares.csv").unlink()
    warned = workflow.run("-n", "--cores", "1", *SMOKE, "--", "figures/fig06_summary.pdf")
    said = warned.stdout + warned.stderr
    assert "results/tables/term_shares.csv (made into" in said and "A run without targets" in said, said[-3000:]
    assert workflow.planned(*SMOKE)["table"] == 1

    workflow = pretended.copy(tmp_path / "model")
    shutil.rmtree(workflow.root / "results" / "models" / "one_to_one" / "aed")
    jobs = workflow.planned(*SMOKE)
    assert jobs["train"] == jobs["probe"] == jobs["measure"] == 1 and "dataset" not in jobs, jobs


# A rule that none of the workflow's code knows of, inserted between measure and table: it
# reads each model's analysis and the table jobs read what it writes.
INSERTED_RULE = """

def analysis_digests(wildcards):
    variant = variant_of(wildcards)
    return [
        f"{ANALYSIS}/analysis.sha256".format(
            branch=BRANCHES[model_owner(config, r["task"], r["arch"], variant)], **r
        )
        for r in model_runs(variant=variant)
    ]


rule analysis_digest:
    input:
        f"{ANALYSIS}/analysis.npz",
    output:
        f"{ANALYSIS}/analysis.sha256",
    log:
        "logs/{branch}digest/{task}/{arch}/seed{seed}.log",
    shell:
        "sha256sum {input} > {output}"
"""


def test_missing_intermediates_follow_a_rule_added_to_the_graph(pretended, tmp_path):
    """The check reads the graph from the rules themselves: a rule inserted between measure
    and table, with no word of it in the check, is walked through (its missing output is
    made again, and so is a missing input of it)."""
    workflow = pretended.copy(tmp_path / "inserted")
    tables = workflow.root / "workflow" / "rules" / "tables.smk"
    text = tables.read_text()
    assert text.count("        table_inputs,\n") == 1
    tables.write_text(
        text.replace(
            "        table_inputs,\n", "        table_inputs,\n        digests=lambda wc: analysis_digests(wc),\n"
        )
        + INSERTED_RULE
    )
    digests = [path for path, rule in workflow.outputs(*SMOKE).items() if rule == "analysis_digest"]
    assert len(digests) == planned_models(workflow.root, "config/smoke.yaml"), digests
    for path in digests:
        (workflow.root / path).touch()
    touched = workflow.run("--cores", "1", *SMOKE, "--touch", "--quiet")  # the tables made from them
    assert touched.returncode == 0, (touched.stdout + touched.stderr)[-3000:]
    assert workflow.planned(*SMOKE) == {}

    digest = "results/analysis/reverse/ao/seed0/analysis.sha256"
    (workflow.root / digest).unlink()
    said = workflow.run("-n", "--cores", "1", *SMOKE)
    out = said.stdout + said.stderr
    assert "files that are gone while files made from them are still there (1)" in out, out[-3000:]
    assert f"{digest} (made into results/tables/" in out
    jobs = workflow.planned(*SMOKE)
    assert jobs["analysis_digest"] == 1 and "measure" not in jobs and jobs["table"] >= 1, jobs

    (workflow.root / digest).touch()
    (workflow.root / "results/analysis/reverse/ao/seed0/analysis.npz").unlink()
    jobs = workflow.planned(*SMOKE)
    assert jobs["measure"] == 1 and jobs["analysis_digest"] == 1, jobs


def edit(path: Path) -> str:
    """Append a statement to a module (a change of its code); return the original text."""
    text = path.read_text()
    path.write_text(text + "\n_EDITED = True\n")
    return text


def test_a_copied_results_tree_plans_nothing(pretended, make_workflow):
    """A fresh clone (every script newer than every output) beside a results tree copied
    with its modification times and Snakemake's metadata plans nothing: a script's content,
    not its modification time, decides (profiles/default turns the code trigger off; each
    rule's `code` param holds its script's checksum). Editing a script's code still plans its
    jobs; editing a comment does not."""
    first = pretended
    clone = make_workflow()
    for path in clone.root.rglob("*"):  # as `git clone` writes them: every source file newer than any output
        os.utime(path)
    for item in ("results", "figures", ".snakemake/metadata"):
        shutil.copytree(first.root / item, clone.root / item)  # copy2: modification times kept, as `cp -a`
    assert clone.planned(*SMOKE) == {}
    script = clone.root / "workflow" / "scripts" / "claims.py"
    script.write_text(script.read_text() + "# a comment\n")
    assert clone.planned(*SMOKE) == {}
    edit(script)
    jobs = clone.planned(*SMOKE)
    assert jobs["claims"] == 2 and "table" not in jobs and "train" not in jobs, jobs


def changed_params(workflow, *targets) -> set[str]:
    """The rules whose jobs' params changed since the run (``--summary``, "params changed")."""
    result = workflow.run("-n", "--cores", "1", *SMOKE, "--summary", "--", *targets)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    rows = [line.split("\t") for line in result.stdout.splitlines()[1:]]
    return {row[2] for row in rows if len(row) > 4 and row[4] == "params changed"}


def test_every_rule_follows_the_code_its_script_imports(pretended, tmp_path):
    """Every rule that runs a script (docs too) has a code version of that script and of
    every attend module it imports, directly or through another module: nothing listed by
    hand. Which script a rule runs is read from Snakemake's own record of the run."""
    workflow = pretended.copy(tmp_path / "code")
    docs = [path for path, rule in workflow.outputs("docs", *SMOKE).items() if rule == "docs"]
    for path in docs:
        (workflow.root / path).parent.mkdir(parents=True, exist_ok=True)
        (workflow.root / path).touch()
    touched = workflow.run("--cores", "1", *SMOKE, "--touch", "--quiet", "--forcerun", "docs", "--", "docs")
    assert touched.returncode == 0, (touched.stdout + touched.stderr)[-3000:]
    targets = ("all", "docs")
    # rule -> its script, as Snakemake recorded the jobs (the `script:` directive)
    scripts = {}
    for record in (workflow.root / ".snakemake" / "metadata").iterdir():
        meta = json.loads(record.read_text())
        if "scripts/" in meta["code"]:
            name = meta["code"].strip().strip('"').rpartition("/")[2]
            scripts[meta["rule"]] = workflow.root / "workflow" / "scripts" / name
    assert {"docs", "measure", "claims", "variant_claims", "fig06_summary"} <= set(scripts), scripts
    src = workflow.root / "src" / "attend"

    def modules(paths):  # as paths under src/attend
        return {p.relative_to(provenance.ROOT).as_posix() for p in paths if p.is_relative_to(provenance.ROOT)}

    # Read in this checkout (the scratch copy holds the same files).
    mine = {rule: REPO / "workflow" / "scripts" / script.name for rule, script in scripts.items()}
    reach = {rule: modules(provenance.source_files(script)) for rule, script in mine.items()}
    named = {rule: modules(imported_directly(script)) for rule, script in mine.items()}
    direct = set.intersection(*named.values())  # imported by every script itself
    through = set.intersection(*reach.values()) - set.union(*named.values())  # by none, reached by all
    assert direct and through, (direct, through)
    edits = [
        ("every script", sorted(set(scripts.values())), set(scripts)),
        (f"{min(direct)}, which every script imports", [src / min(direct)], set(scripts)),
        (f"{min(through)}, which every script reaches through others", [src / min(through)], set(scripts)),
        ("probe.py", [src / "probe.py"], {r for r, files in reach.items() if "probe.py" in files}),
        ("tables.py", [src / "tables.py"], {r for r, files in reach.items() if "tables.py" in files}),
    ]
    assert edits[3][2] >= {"probe", "measure"} and edits[4][2] >= {"claims", "variant_claims", "fig06_summary"}
    for what, paths, expected in edits:
        originals = [edit(path) for path in paths]
        try:
            assert changed_params(workflow, *targets) == expected, f"after editing {what}"
        finally:
            for path, original in zip(paths, originals):
                path.write_text(original)


def test_what_a_change_of_settings_or_code_reruns(pretended, tmp_path):
    """Which jobs a change plans, on the smoke config pretend-run (the same plan a real run's
    records give: the smoke test checks that a finished run plans nothing): execution
    settings none; one task's or one variant's science value that branch alone; an edited
    module the steps whose scripts reach it; a comment nothing."""
    workflow = pretended.copy(tmp_path / "copy")
    models = planned_models(workflow.root, "config/smoke.yaml")
    # Execution settings change how jobs run, not what they compute: nothing reruns.
    (workflow.root / "fast.yaml").write_text("execution: {threads: 2, steps_per_execution: 10, jit_compile: true}\n")
    assert workflow.planned(*SMOKE, "fast.yaml") == {}
    # A science value of one task reruns that task's runs alone (and what reads them), in
    # every variant that runs it (base's four models and the multihead variant's AED and AO).
    (workflow.root / "oto.yaml").write_text("overrides: {one_to_one: {train: {learning_rate: 0.002}}}\n")
    jobs = workflow.planned(*SMOKE, "oto.yaml")
    one_to_one = planned_models(workflow.root, "config/smoke.yaml", task="one_to_one")
    assert jobs["train"] == one_to_one and jobs["probe"] == one_to_one and "dataset" not in jobs
    (workflow.root / "sort.yaml").write_text("overrides: {sort: {train: {learning_rate: 0.002}}}\n")
    jobs = workflow.planned(*SMOKE, "sort.yaml")
    sort = planned_models(workflow.root, "config/smoke.yaml", task="sort")
    assert jobs["train"] == sort and jobs["probe"] == sort and "dataset" not in jobs
    # One variant's value reruns that variant's branch alone.
    (workflow.root / "mh.yaml").write_text("variants: {multihead: {train: {learning_rate: 0.002}}}\n")
    jobs = workflow.planned(*SMOKE, "mh.yaml")
    assert jobs["train"] == 2 and jobs["claims"] == 1 and "fig06_summary" not in jobs
    assert jobs["table"] == len(TABLES) - len(GOLD_TABLE_COLUMNS)  # one_to_one only: no gold table

    # Results follow the code: the steps whose modules reach an edited file rerun.
    src = workflow.root / "src" / "attend"
    drawing_results = [name for name, f in figures().items() if f.pairs() or f.tables]
    escan = planned_models(workflow.root, "config/smoke.yaml", task="escan")
    for module, expect in [
        (  # every model reads layers.py; seq2seq.py is VED's, AED's and AO's alone, not the Transformer's
            "models/layers.py",
            lambda j: (
                j["train"] == j["probe"] == j["measure"] == models
                and "dataset" not in j
                and {"table", "claims"} <= set(j)
                and all(name in j for name in drawing_results)
            ),
        ),
        (
            "models/seq2seq.py",
            lambda j: j["train"] == models - planned_models(workflow.root, "config/smoke.yaml", arch="tfm"),
        ),
        (
            "models/transformer.py",
            lambda j: j["train"] == planned_models(workflow.root, "config/smoke.yaml", arch="tfm"),
        ),
        ("plotting/fig05_synthetic_tasks.py", lambda j: j == {"fig05_synthetic_tasks": 1}),
        (
            "claims.py",
            lambda j: (
                set(j) == {"claims", "fig06_summary", "variant_claims", "variant_shares", "fig11_variants"}
                and j["claims"] == 2
            ),
        ),
        ("tasks/scan.py", lambda j: j["dataset"] == 1 and j["train"] == escan),
    ]:
        original = edit(src / module)
        try:
            jobs = workflow.planned(*SMOKE)
            assert expect(jobs), f"after editing {module}: {jobs}"
        finally:
            (src / module).write_text(original)
    assert workflow.planned(*SMOKE) == {}, "the same code again: nothing to do"
    (src / "models" / "layers.py").write_text(
        (src / "models" / "layers.py").read_text() + "\n# a comment changes no result\n"
    )
    assert workflow.planned(*SMOKE) == {}


def test_smoke_workflow_end_to_end(workflow, corpus):
    first = workflow.run("--cores", "2", *SMOKE)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-6000:]
    for name in figures():
        assert {f.suffix for f in (workflow.root / "figures").glob(f"{name}.*")} == {".pdf", ".png"}, name
    claims = read_table(workflow.root / "results" / "tables" / "claims.csv")
    assert set(claims["claim"]) == set(CHECKS)
    # The translation models with attention were probed on the gold pairs, and F6 checked in each
    # scope that has one (the Transformer's runs on one_to_one alone here: its F6 is not checked)
    gold = read_table(workflow.root / "results" / "tables" / "gold_alignment.csv")
    assert len(gold.groupby(["task", "arch", "seed"])) == planned_models(workflow.root, "config/smoke.yaml", gold=True)
    for row in claims[claims["claim"] == "F6"].itertuples():
        probed = set(SCOPES[row.scope].archs) & set(gold["arch"])
        assert (row.status != "not checked") == bool(probed), row
    compared = read_table(workflow.root / "results" / "tables" / "variant_claims.csv")
    assert list(compared["variant"].unique()) == ["base", "multihead"] and len(compared) == 2 * len(CHECKS)
    # `attend analyse` on a probe of every form (VED's none, one head, several heads: the multihead
    # variant, several layers: tfm), of every task and a gold probe: its tables, figures and summary
    # (tests/test_analyse.py)
    models = planned_models(workflow.root, "config/smoke.yaml")
    assert 6 <= check_every_probe_analyses(workflow.root / "results", workflow.root / "analysed") < models
    assert compared.set_index(["variant", "claim"]).loc[("multihead", "F5"), "status"] == "not checked"
    shares = read_table(workflow.root / "results" / "tables" / "variant_shares.csv")
    assert len(shares[shares["variant"] == "multihead"]) == 1 * 2
    assert workflow.planned(*SMOKE) == {}, "a second invocation has nothing to do"

    # The results document, from the run's tables: every number it shows is theirs.
    docs = workflow.run("--cores", "1", *SMOKE, "--", "docs")
    assert docs.returncode == 0, docs.stdout[-3000:] + docs.stderr[-3000:]
    results = (workflow.root / "docs" / "results.md").read_text()
    tables = {name: str(workflow.root / "results" / "tables" / f"{name}.csv") for name in ("accuracy", "claims")}
    benchmarks = [{"path": str(p)} for p in (workflow.root / "benchmarks" / "train").rglob("*.tsv")]
    assert_document_holds(results, tables, benchmarks)
    assert all(
        (workflow.root / "docs" / "figures" / f"{name}.png").read_bytes()
        == (workflow.root / "figures" / f"{name}.png").read_bytes()
        for name in figures()
    )
    # Every job ran on the config's backend (the default).
    backends = {json.loads(p.read_text())["backend"] for p in (workflow.root / "results").rglob("metrics.json")}
    assert backends == {defaults()["backend"]}, backends

    # A file of the multihead variant's branch copied into base's is refused by name by the
    # job that reads it (the model, the probe, the analysis, a CSV alone, an aggregated table).
    res = workflow.root / "results"
    variant = res / "variants" / "multihead"
    one = "one_to_one/aed/seed0"
    cases = [
        (f"models/{one}/model.keras", "probe", f"results/probes/{one}/probe.npz"),
        (f"probes/{one}/probe.npz", "measure", f"results/analysis/{one}/analysis.npz"),
        (f"analysis/{one}/analysis.npz", "table", "results/tables/variance.csv"),
        (f"analysis/{one}/analysis.npz", "fig02_one_to_one_aed", "figures/fig02_one_to_one_aed.pdf"),
        (f"analysis/{one}/term_shares.csv", "table", "results/tables/term_shares.csv"),
        ("tables/term_shares.csv", "claims", "results/claims.md"),
    ]
    # A failed job's outputs are deleted: each case starts from a copy of the tree (times kept).
    backup = workflow.root / "backup"
    shutil.copytree(res, backup)
    for copied, job, target in cases:
        shutil.copy(variant / copied, res / copied)
        refused = workflow.run("--cores", "1", "--show-failed-logs", *SMOKE, "--allowed-rules", job, "--force", target)
        said = refused.stdout + refused.stderr
        assert refused.returncode != 0, f"{copied} of the variant passed as base's"
        if copied.endswith("term_shares.csv") and copied.startswith("analysis"):
            assert f"{copied} is not the file" in said and "analysis.npz was written with" in said, said[-3000:]
        elif copied.startswith("tables"):
            assert "its rows of one_to_one/aed come from models whose variant is 'multihead', expected 'base'" in said
        else:
            assert f"{copied}: this" in said and "variant is 'multihead', expected 'base'" in said, said[-3000:]
        if copied.endswith("model.keras"):  # forcing the training job would restore the kept copy: say so
            assert "checkpoint/finished, which forcing the job would restore: move it away first" in said
        shutil.rmtree(res)
        shutil.copytree(backup, res)
    shutil.rmtree(backup)

    # Determinism: regenerate one dataset and one model from scratch and compare.
    data = res / "data" / "one_to_one" / "seed0" / "dataset.npz"
    analysis = res / "analysis" / "one_to_one" / "aed" / "seed0"
    before = {p.name: p.read_bytes() for p in [data, *analysis.glob("*.csv")]}
    metrics = json.loads((res / "models" / "one_to_one" / "aed" / "seed0" / "metrics.json").read_text())
    for sub in ("data/one_to_one", "models/one_to_one", "probes/one_to_one", "analysis/one_to_one"):
        shutil.rmtree(res / sub)
    target = str((analysis / "analysis.npz").relative_to(workflow.root))
    redo = workflow.run("--cores", "2", *SMOKE, "--", target)  # "--": the target is not another config file
    assert redo.returncode == 0, redo.stderr[-3000:]
    after = {p.name: p.read_bytes() for p in [data, *analysis.glob("*.csv")]}
    assert after.keys() == before.keys()
    for name in before:
        assert after[name] == before[name], f"{name} differs between two runs of the same config"
    metrics_again = json.loads((res / "models" / "one_to_one" / "aed" / "seed0" / "metrics.json").read_text())
    assert metrics_again == metrics

    # A truncated file: the job that reads it names it and the command that makes it again,
    # and that command works (a plain rerun would do nothing: the file looks up to date).
    dataset = "results/data/one_to_one/seed0/dataset.npz"
    intact = (workflow.root / dataset).read_bytes()
    (workflow.root / dataset).write_bytes(intact[:1000])
    failed = workflow.run(
        "--cores",
        "1",
        "--show-failed-logs",
        *SMOKE,
        "--forcerun",
        "probe",
        "--",
        "results/probes/one_to_one/aed/seed0/probe.npz",
    )
    assert failed.returncode != 0
    command = f"snakemake --cores all --force {dataset}"
    assert f"{dataset}: not a readable dataset" in failed.stdout + failed.stderr
    assert command in failed.stdout + failed.stderr
    again = workflow.run(*command.split()[1:], *SMOKE)
    assert again.returncode == 0, again.stderr[-3000:]
    assert (workflow.root / dataset).read_bytes() == intact
