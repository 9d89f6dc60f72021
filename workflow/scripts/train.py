# Claim a device before the backend is imported (see attend.gpu), then train.
from attend.logs import log_to

log_to(snakemake.log[0])

from attend.gpu import claim_device_for_job  # noqa: E402

claim = claim_device_for_job(snakemake.threads, snakemake.resources.gpu)

from attend import training  # noqa: E402
from attend.tasks.base import load_dataset  # noqa: E402

arrays, vocab = load_dataset(snakemake.input.npz, snakemake.input.vocab)
seed = int(snakemake.wildcards.seed)
execution = {
    "steps_per_execution": snakemake.resources.steps_per_execution,
    "jit_compile": bool(snakemake.resources.jit_compile),
}
training.set_determinism(seed, snakemake.threads)
training.train(
    snakemake.wildcards.arch, arrays, vocab, snakemake.params.model, snakemake.params.train, execution, seed,
    model_path=snakemake.output.model, log_path=snakemake.output.log,
    metrics_path=snakemake.output.metrics, checkpoint_dir=snakemake.params.checkpoint,
)
