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
