# Restore the model if this job's fingerprint already trained one (attend.finished), else
# claim a device before the backend is imported (see attend.gpu), then train.
from attend.logs import log_to

log_to(snakemake.log[0])

from attend import finished  # noqa: E402
from attend.artifacts import load_vocab  # noqa: E402
from attend.provenance import fingerprint  # noqa: E402

task, arch, seed = snakemake.wildcards.task, snakemake.wildcards.arch, int(snakemake.wildcards.seed)
params, output = snakemake.params, snakemake.output
# What the model is made from: its settings, its input files' bytes and the training code
# (the rule's code param: this script and every attend module it imports).
made_from = fingerprint(
    {
        "arch": arch,
        "seed": seed,
        "model": params.model,
        "train": params.train,
        "backend": params.backend,
        "identity": dict(params.identity),
        "code": params.code,
    },
    files=[snakemake.input.npz, snakemake.input.vocab],
)
outputs = {"model.keras": output.model, "train_log.csv": output.log, "metrics.json": output.metrics}
# What the model records of itself (attend.training.train): a kept copy must record the same.
identity = {"task": task, "dataset": load_vocab(snakemake.input.vocab)["npz_sha256"], **params.identity}
model_identity = {**identity, "arch": arch, "seed": seed, "fingerprint": made_from}
if not finished.restore(params.checkpoint, made_from, outputs, output.timing, model_identity):
    from attend.gpu import claim_device_for_job

    claim = claim_device_for_job(snakemake.threads, snakemake.resources.gpu)

    from attend import training
    from attend.artifacts import load_dataset

    arrays, vocab = load_dataset(snakemake.input.npz, snakemake.input.vocab, expect={"task": task, "seed": seed})
    execution = {
        "steps_per_execution": snakemake.resources.steps_per_execution,
        "jit_compile": bool(snakemake.resources.jit_compile),
    }
    training.set_determinism(seed, snakemake.threads)
    training.train(
        arch,
        arrays,
        vocab,
        params.model,
        params.train,
        execution,
        seed,
        model_path=output.model,
        log_path=output.log,
        metrics_path=output.metrics,
        timing_path=output.timing,
        checkpoint_dir=params.checkpoint,
        fingerprint=made_from,
        identity=identity,
        restore=False,  # tried above, before the backend was imported
    )
