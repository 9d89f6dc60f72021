# Aggregate tables across tasks, architectures and seeds (one rule per table, so a figure
# that reads one table waits only for the runs behind it), then check the claims F1-F5.

TABLES = ["accuracy", "training_log"] + MEASURE_TABLES


def table_runs(table):
    """[{task, arch, seed, path}]: the per-model file behind each row group of a table."""
    pattern = {
        "accuracy": f"{MODEL}/metrics.json",
        "training_log": f"{MODEL}/train_log.csv",
    }.get(table, f"{ANALYSIS}/{table}.csv")
    return [dict(r, path=pattern.format(**r)) for r in model_runs()]


rule table:
    input:
        lambda wc: [r["path"] for r in table_runs(wc.table)],
    output:
        table="results/tables/{table}.csv",
        summary="results/tables/{table}_summary.csv",
    params:
        runs=lambda wc: table_runs(wc.table),
    wildcard_constraints:
        table="|".join(TABLES),
    log:
        "logs/tables/{table}.log",
    benchmark:
        "benchmarks/tables/{table}.tsv"
    script:
        "../scripts/tables.py"


rule tables:
    """Every table and the claims: `snakemake tables`."""
    input:
        expand("results/tables/{table}{suffix}.csv", table=TABLES, suffix=["", "_summary"]),
        "results/tables/claims.csv",
        "results/claims.md",


rule claims:
    input:
        accuracy="results/tables/accuracy.csv",
        approximation="results/tables/approximation.csv",
        term_shares="results/tables/term_shares.csv",
        dictionary="results/tables/dictionary.csv",
    output:
        csv=report("results/tables/claims.csv", caption="../report/claims.rst", category="Tables"),
        md="results/claims.md",
    log:
        "logs/claims.log",
    script:
        "../scripts/claims.py"
