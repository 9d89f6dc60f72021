# Training: one Keras model per (task, architecture, seed).
# Jobs declare `gpu` (see resources below) and `threads`; the script claims a free GPU
# before importing TensorFlow, or runs on the CPU with the threads it was given.


rule train:
    input:
        npz=f"{DATA}/dataset.npz",
        vocab=f"{DATA}/vocab.json",
    output:
        model=f"{MODEL}/model.keras",
        log=f"{MODEL}/train_log.csv",
        metrics=f"{MODEL}/metrics.json",
    params:
        model=lambda wc: settings(wc.task)[0],
        train=lambda wc: settings(wc.task)[1],
        # Not an output: BackupAndRestore's state, removed when the job finishes.
        checkpoint=lambda wc: MODEL.format(**wc) + "/checkpoint",
    threads: config["train"]["threads"]
    resources:
        gpu=TRAIN_GPUS,
    log:
        "logs/train/{task}/{arch}/seed{seed}.log",
    benchmark:
        "benchmarks/train/{task}/{arch}/seed{seed}.tsv"
    script:
        "../scripts/train.py"
