# Datasets: one npz + vocabulary JSON per (task, seed); a task's external corpus is
# obtained once (local copy or download, checksum-verified).


rule corpus:
    output:
        text="results/data/corpus/fra.txt",
        provenance="results/data/corpus/provenance.json",
    log:
        "logs/data/corpus.log",
    benchmark:
        "benchmarks/corpus/corpus.tsv"
    conda:
        "../../envs/attend.yaml"
    params:
        corpus=config["data"]["translation"]["corpus"],
    script:
        "../scripts/corpus.py"


rule dataset:
    input:
        corpus=corpus_input,
    output:
        npz=f"{DATA}/dataset.npz",
        vocab=f"{DATA}/vocab.json",
    log:
        "logs/data/{task}/seed{seed}.log",
    benchmark:
        "benchmarks/dataset/{task}/seed{seed}.tsv"
    conda:
        "../../envs/attend.yaml"
    params:
        data=data_settings,
        task_modules=config["task_modules"],
    script:
        "../scripts/dataset.py"


rule gold_alignments:
    """The human word alignments every translation model with attention is probed on
    (docs/science.md §4.9): a local copy, the search path or a download, checksum-verified.
    """
    output:
        pairs=f"{GOLD_DATA}/enfr.src-tgt",
        links=f"{GOLD_DATA}/enfr.gold",
        provenance=f"{GOLD_DATA}/provenance.json",
    log:
        "logs/data/gold_alignments.log",
    benchmark:
        "benchmarks/gold_alignments/gold_alignments.tsv"
    conda:
        "../../envs/attend.yaml"
    params:
        gold=config["data"]["gold_alignment"],
    script:
        "../scripts/gold_alignments.py"
