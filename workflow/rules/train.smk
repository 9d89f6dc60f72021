# Training: one Keras model per (task, architecture, seed) of each variant. The science
# settings are params (changing one retrains); threads and the execution settings are not (changing
# them reruns nothing). The script claims a free GPU slot before importing the backend,
# or runs on the CPU with the threads it was given.


rule train:
    input:
        npz=f"{DATA}/dataset.npz",
        vocab=f"{DATA}/vocab.json",
    output:
        model=f"{MODEL}/model.keras",
        log=f"{MODEL}/train_log.csv",
        metrics=f"{MODEL}/metrics.json",
        # How the job ran (wall time, resumed or not): apart from what it computed.
        timing=f"{MODEL}/timing.json",
    log:
        "logs/{branch}train/{task}/{arch}/seed{seed}.log",
    benchmark:
        "benchmarks/{branch}train/{task}/{arch}/seed{seed}.tsv"
    priority: train_priority
    conda:
        "../../envs/attend.yaml"
    threads: config["execution"]["threads"]
    resources:
        gpu=TRAIN_GPUS,
        steps_per_execution=config["execution"]["steps_per_execution"],
        jit_compile=int(config["execution"]["jit_compile"]),
    params:
        # The variant's settings of the task: editing one variant reruns its branch alone.
        model=lambda wc: job_settings(wc)[0],
        train=lambda wc: job_settings(wc)[1],
        # What the model records as having made it: its variant and settings digest.
        identity=made_by,
        # The backend draws the initial weights: changing it retrains.
        backend=config["backend"],
        # Not an output, so Snakemake never deletes it: the resumable training state
        # (attend.checkpoint), kept by a killed job so that its rerun resumes, and the
        # finished model (attend.finished), which a rerun from the same settings, input
        # bytes and code restores instead of training.
        checkpoint=f"{MODEL}/checkpoint",
    script:
        "../scripts/train.py"
