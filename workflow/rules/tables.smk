# Aggregate tables across tasks, architectures and seeds, then check the claims F1-F5.

TABLES = ["accuracy", "training_log"] + MEASURE_TABLES


def per_model(pattern):
    """[{task, arch, seed, path}] for every run of the config."""
    return [dict(r, path=pattern.format(**r)) for r in model_runs()]


rule tables:
    input:
        metrics=expand_runs(f"{MODEL}/metrics.json"),
        logs=expand_runs(f"{MODEL}/train_log.csv"),
        measured=[f"{ANALYSIS}/{t}.csv".format(**r) for r in model_runs() for t in MEASURE_TABLES],
    output:
        tables=expand("results/tables/{table}.csv", table=TABLES),
        summaries=expand("results/tables/{table}_summary.csv", table=TABLES),
    params:
        metrics=per_model(f"{MODEL}/metrics.json"),
        logs=per_model(f"{MODEL}/train_log.csv"),
        measured={t: per_model(f"{ANALYSIS}/{t}.csv") for t in MEASURE_TABLES},
    log:
        "logs/tables.log",
    script:
        "../scripts/tables.py"


rule claims:
    input:
        tables=rules.tables.output.tables,
    output:
        csv="results/tables/claims.csv",
        md="results/claims.md",
    log:
        "logs/claims.log",
    script:
        "../scripts/claims.py"
