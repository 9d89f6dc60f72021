# Datasets: one npz + vocabulary JSON per (task, seed); the translation corpus is
# obtained once (local copy or download, checksum-verified).


rule corpus:
    output:
        text="results/data/corpus/fra.txt",
        provenance="results/data/corpus/provenance.json",
    params:
        corpus=config["data"]["translation"]["corpus"],
    log:
        "logs/data/corpus.log",
    benchmark:
        "benchmarks/corpus/corpus.tsv"
    script:
        "../scripts/corpus.py"


def corpus_input(wildcards):
    return rules.corpus.output.text if wildcards.task == "translation" else []


rule dataset:
    input:
        corpus=corpus_input,
    output:
        npz=f"{DATA}/dataset.npz",
        vocab=f"{DATA}/vocab.json",
    params:
        # Only this task's block: changing another task's settings leaves this one alone.
        data=lambda wc: {"sizes": config["data"]["sizes"], wc.task: config["data"][wc.task]},
    log:
        "logs/data/{task}/seed{seed}.log",
    benchmark:
        "benchmarks/dataset/{task}/seed{seed}.tsv"
    script:
        "../scripts/dataset.py"
