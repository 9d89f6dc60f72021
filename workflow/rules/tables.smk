# Aggregate tables across tasks, architectures and seeds (one job per table, so a figure
# that reads one table waits only for the runs behind it), then check the claims F1-F5.


rule table:
    input:
        table_inputs,
    output:
        table="results/tables/{table}.csv",
        summary="results/tables/{table}_summary.csv",
    log:
        "logs/tables/{table}.log",
    benchmark:
        "benchmarks/tables/{table}.tsv"
    conda:
        "../../envs/attend.yaml"
    params:
        runs=table_params,
        code=code_version("attend.tables"),
    script:
        "../scripts/tables.py"


rule tables:
    """Every table and the claims: `snakemake tables`."""
    input:
        expand(
            "results/tables/{table}{suffix}.csv", table=TABLES, suffix=["", "_summary"]
        ),
        "results/tables/claims.csv",
        "results/claims.md",


rule claims:
    input:
        accuracy="results/tables/accuracy.csv",
        approximation="results/tables/approximation.csv",
        term_shares="results/tables/term_shares.csv",
        dictionary="results/tables/dictionary.csv",
    output:
        csv=report(
            "results/tables/claims.csv",
            caption="../report/claims.rst",
            category="Tables",
        ),
        md="results/claims.md",
    log:
        "logs/claims.log",
    benchmark:
        "benchmarks/claims.tsv"
    conda:
        "../../envs/attend.yaml"
    params:
        task_modules=config["task_modules"],
        code=code_version("attend.claims"),
    script:
        "../scripts/claims.py"
