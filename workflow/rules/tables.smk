# Aggregate tables across tasks, architectures and seeds (one job per table, so a figure
# that reads one table waits only for the runs behind it), then check the claims F1-F6;
# each variant on its own branch (results/{branch}), then the variants side by side.


rule table:
    input:
        table_inputs,
    output:
        table=f"{TABLE_DIR}/{{table}}.csv",
        summary=f"{TABLE_DIR}/{{table}}_summary.csv",
    log:
        "logs/{branch}tables/{table}.log",
    benchmark:
        "benchmarks/{branch}tables/{table}.tsv"
    conda:
        "../../envs/attend.yaml"
    params:
        runs=table_params,
    script:
        "../scripts/tables.py"


rule tables:
    """Every table and the claims of every variant, and their comparison: `snakemake tables`."""
    input:
        all_tables(),


rule claims:
    input:
        accuracy=f"{TABLE_DIR}/accuracy.csv",
        approximation=f"{TABLE_DIR}/approximation.csv",
        term_shares=f"{TABLE_DIR}/term_shares.csv",
        dictionary=f"{TABLE_DIR}/dictionary.csv",
        gold_alignment=f"{TABLE_DIR}/gold_alignment.csv",
    output:
        csv=report(
            f"{TABLE_DIR}/claims.csv",
            caption="../report/claims.rst",
            category="Tables",
        ),
        md="results/{branch}claims.md",
    log:
        "logs/{branch}claims.log",
    benchmark:
        "benchmarks/{branch}claims.tsv"
    conda:
        "../../envs/attend.yaml"
    params:
        task_modules=config["task_modules"],
        # what made each model the tables hold: a table from another variant is refused
        identities=lambda wc: variant_identities(variant_of(wc)),
    script:
        "../scripts/claims.py"


rule variant_claims:
    """Every variant's claims side by side (planned with two variants or more)."""
    input:
        list(variant_tables("claims").values()),
    output:
        table="results/tables/variant_claims.csv",
    log:
        "logs/tables/variant_claims.log",
    benchmark:
        "benchmarks/tables/variant_claims.tsv"
    conda:
        "../../envs/attend.yaml"
    params:
        claims=variant_tables("claims"),
    script:
        "../scripts/variants.py"


rule variant_shares:
    """Every variant's mu·mu share and argmax agreement with the mean attention, by task
    and architecture (planned with two variants or more)."""
    input:
        list(variant_tables("term_shares").values()),
        list(variant_tables("approximation").values()),
    output:
        table="results/tables/variant_shares.csv",
    log:
        "logs/tables/variant_shares.log",
    benchmark:
        "benchmarks/tables/variant_shares.tsv"
    conda:
        "../../envs/attend.yaml"
    params:
        term_shares=variant_tables("term_shares"),
        approximation=variant_tables("approximation"),
        identities={v: variant_identities(v) for v in VARIANTS},
    script:
        "../scripts/variants.py"
