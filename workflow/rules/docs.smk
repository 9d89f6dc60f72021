# The results document: docs/results.md and docs/figures/ from a finished run's tables,
# training benchmarks and figures (`make docs`, or `snakemake docs`; not part of `all`,
# since it writes into the repository's docs/).


rule docs:
    input:
        tables=list(docs_tables().values()),
        benchmarks=[run["path"] for run in train_benchmarks()],
        figures=expand("figures/{figure}.png", figure=FIGURES),
    output:
        results="docs/results.md",
        figures=expand("docs/figures/{figure}.png", figure=FIGURES),
    log:
        "logs/docs.log",
    conda:
        "../../envs/attend.yaml"
    params:
        tables=docs_tables(),
        benchmarks=train_benchmarks(),
        about=run_summary(),
        task_modules=config["task_modules"],
    script:
        "../scripts/docs.py"
