from attend.logs import log_to

log_to(snakemake.log[0])

from attend.gpu import hide_gpus  # noqa: E402

hide_gpus()  # probing is a few forward passes: the CPU is enough

from attend import probe  # noqa: E402
from attend.artifacts import DataError, load_dataset  # noqa: E402
from attend.model_files import load_trained_model  # noqa: E402

task, arch, seed = snakemake.wildcards.task, snakemake.wildcards.arch, int(snakemake.wildcards.seed)
arrays, vocab = load_dataset(snakemake.input.npz, snakemake.input.vocab, expect={"task": task, "seed": seed})
expect = {"task": task, "arch": arch, "seed": seed, "dataset": vocab["npz_sha256"], **snakemake.params.identity}
model = load_trained_model(snakemake.input.model, snakemake.input.metrics, snakemake.params.checkpoint, expect)
n = snakemake.params.n_sequences
if len(arrays["test_src"]) < n:  # too few sequences for the measurements the claims rest on
    raise DataError(
        f"{snakemake.input.npz}: its test split has {len(arrays['test_src'])} sequences, fewer than "
        f"analysis.n_sequences ({n}); lower analysis.n_sequences or enlarge the test split"
    )
align = arrays["test_align"][:n] if "test_align" in arrays else None
probe.save(snakemake.output.probe, probe.record(model, arrays["test_src"][:n], arrays["test_tgt"][:n], vocab, align))
