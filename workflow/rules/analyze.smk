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


# The gold probe of every translation model with attention (attend.gold_alignment.applies):
# the model teacher-forced on the human-aligned gold pairs, then its alignment error rates
# (docs/science.md §4.9) beside that probe's own analysis.


rule gold_probe:
    input:
        model=f"{MODEL}/model.keras",
        # records the model file's checksum: a model altered after training is refused
        metrics=f"{MODEL}/metrics.json",
        npz=f"{DATA}/dataset.npz",
        vocab=f"{DATA}/vocab.json",
        pairs=rules.gold_alignments.output.pairs,
        links=rules.gold_alignments.output.links,
    output:
        probe=GOLD_PROBE,
    log:
        "logs/{branch}gold_probe/{task}/{arch}/seed{seed}.log",
    benchmark:
        "benchmarks/{branch}gold_probe/{task}/{arch}/seed{seed}.tsv"
    wildcard_constraints:
        task=GOLD_TASKS,
        arch=GOLD_ARCHS,
    conda:
        "../../envs/attend.yaml"
    params:
        # what the probe reads of the settings: where the files came from reruns nothing
        sha256=config["data"]["gold_alignment"]["sha256"],
        identity=made_by,
        # the training job's kept copy, named in the advice when the model is refused
        checkpoint=f"{MODEL}/checkpoint",
    script:
        "../scripts/gold_probe.py"


rule gold_measure:
    input:
        probe=GOLD_PROBE,
    output:
        arrays=f"{GOLD_ANALYSIS}/analysis.npz",
        tables=expand(
            f"{GOLD_ANALYSIS}/{{table}}.csv", table=GOLD_TABLES, allow_missing=True
        ),
    log:
        "logs/{branch}gold_measure/{task}/{arch}/seed{seed}.log",
    benchmark:
        "benchmarks/{branch}gold_measure/{task}/{arch}/seed{seed}.tsv"
    wildcard_constraints:
        task=GOLD_TASKS,
        arch=GOLD_ARCHS,
    conda:
        "../../envs/attend.yaml"
    params:
        # the model's trained maximum of words per side: the length bins inside/beyond
        max_len=lambda wc: config["data"][wc.task]["max_len"],
        identity=made_by,
    script:
        "../scripts/gold_measure.py"
