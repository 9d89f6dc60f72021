# Probe each trained model on the test set (Keras), then measure (numpy only).


rule probe:
    input:
        model=f"{MODEL}/model.keras",
        # records the model file's checksum: a model altered after training is refused
        metrics=f"{MODEL}/metrics.json",
        npz=f"{DATA}/dataset.npz",
        vocab=f"{DATA}/vocab.json",
    output:
        probe=f"{PROBE}/probe.npz",
    log:
        "logs/{branch}probe/{task}/{arch}/seed{seed}.log",
    benchmark:
        "benchmarks/{branch}probe/{task}/{arch}/seed{seed}.tsv"
    conda:
        "../../envs/attend.yaml"
    params:
        n_sequences=config["analysis"]["n_sequences"],
        identity=made_by,
        # the training job's kept copy, named in the advice when the model is refused
        checkpoint=f"{MODEL}/checkpoint",
    script:
        "../scripts/probe.py"


rule measure:
    input:
        probe=f"{PROBE}/probe.npz",
        vocab=f"{DATA}/vocab.json",
    output:
        arrays=f"{ANALYSIS}/analysis.npz",
        tables=expand(
            f"{ANALYSIS}/{{table}}.csv", table=MEASURE_TABLES, allow_missing=True
        ),
    log:
        "logs/{branch}measure/{task}/{arch}/seed{seed}.log",
    benchmark:
        "benchmarks/{branch}measure/{task}/{arch}/seed{seed}.tsv"
    conda:
        "../../envs/attend.yaml"
    params:
        n_samples=config["analysis"]["n_samples"],
        identity=made_by,
    script:
        "../scripts/measure.py"
