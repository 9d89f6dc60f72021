# Claim a device before TensorFlow is imported (see attend.gpu), then train.
from attend.logs import log_to

log_to(snakemake.log[0])

from attend.gpu import claim_device_for_job  # noqa: E402

claim = claim_device_for_job(snakemake.threads, snakemake.params.train["slots_per_gpu"], snakemake.resources.gpu)

from attend.tasks.base import load_dataset  # noqa: E402
from attend import training  # noqa: E402

arrays, vocab = load_dataset(snakemake.input.npz, snakemake.input.vocab)
arrays["n_src"], arrays["n_tgt"] = len(vocab["src_vocab"]), len(vocab["tgt_vocab"])
training.set_determinism(int(snakemake.wildcards.seed), snakemake.threads)
training.train(
    snakemake.wildcards.arch, arrays, snakemake.params.model, snakemake.params.train,
    int(snakemake.wildcards.seed),
    model_path=snakemake.output.model, log_path=snakemake.output.log,
    metrics_path=snakemake.output.metrics, checkpoint_dir=snakemake.params.checkpoint,
)
