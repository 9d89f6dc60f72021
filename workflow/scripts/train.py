# Claim a device before the backend is imported (see attend.gpu), then train.
from attend.logs import log_to

log_to(snakemake.log[0])

from attend.gpu import claim_device_for_job  # noqa: E402

claim = claim_device_for_job(snakemake.threads, snakemake.resources.gpu)

from attend import training  # noqa: E402
from attend.provenance import fingerprint  # noqa: E402
from attend.artifacts import load_dataset  # noqa: E402

task, arch, seed = snakemake.wildcards.task, snakemake.wildcards.arch, int(snakemake.wildcards.seed)
arrays, vocab = load_dataset(snakemake.input.npz, snakemake.input.vocab, expect={"task": task, "seed": seed})
execution = {
    "steps_per_execution": snakemake.resources.steps_per_execution,
    "jit_compile": bool(snakemake.resources.jit_compile),
}
made_from = fingerprint(
    {"arch": arch, "seed": seed, "model": snakemake.params.model, "train": snakemake.params.train},
    files=[snakemake.input.npz, snakemake.input.vocab], modules=("attend.training",),
)
training.set_determinism(seed, snakemake.threads)
training.train(
    arch, arrays, vocab, snakemake.params.model, snakemake.params.train, execution, seed,
    model_path=snakemake.output.model, log_path=snakemake.output.log, metrics_path=snakemake.output.metrics,
    timing_path=snakemake.output.timing, checkpoint_dir=snakemake.params.checkpoint, fingerprint=made_from,
    identity={"task": task, "dataset": vocab["npz_sha256"], **snakemake.params.identity},
)
