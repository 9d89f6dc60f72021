# Probe each trained model on the test set (TensorFlow), then measure (numpy only).

MEASURE_TABLES = [
    "variance", "term_shares", "approximation", "dictionary", "word_variance",
    "accuracy_by_length", "escan_offsets", "escan_word_attention",
]


rule probe:
    input:
        model=f"{MODEL}/model.keras",
        npz=f"{DATA}/dataset.npz",
        vocab=f"{DATA}/vocab.json",
    output:
        probe=f"{PROBE}/probe.npz",
    params:
        n_sequences=config["analysis"]["n_sequences"],
    threads: 1
    log:
        "logs/probe/{task}/{arch}/seed{seed}.log",
    benchmark:
        "benchmarks/probe/{task}/{arch}/seed{seed}.tsv"
    script:
        "../scripts/probe.py"


rule measure:
    input:
        probe=f"{PROBE}/probe.npz",
        vocab=f"{DATA}/vocab.json",
    output:
        arrays=f"{ANALYSIS}/analysis.npz",
        tables=expand(f"{ANALYSIS}/{{table}}.csv", table=MEASURE_TABLES, allow_missing=True),
    params:
        n_samples=config["analysis"]["n_samples"],
    log:
        "logs/measure/{task}/{arch}/seed{seed}.log",
    benchmark:
        "benchmarks/measure/{task}/{arch}/seed{seed}.tsv"
    script:
        "../scripts/measure.py"
