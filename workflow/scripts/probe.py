from attend.logs import log_to

log_to(snakemake.log[0])

from attend.gpu import hide_gpus  # noqa: E402

hide_gpus()  # probing is a few forward passes: the CPU is enough

from attend import probe  # noqa: E402
from attend.tasks.base import load_dataset  # noqa: E402
from attend.training import load_model  # noqa: E402

arrays, vocab = load_dataset(snakemake.input.npz, snakemake.input.vocab)
n = snakemake.params.n_sequences
model = load_model(snakemake.input.model)
align = arrays["test_align"][:n] if "test_align" in arrays else None
probe.save(snakemake.output.probe,
           probe.record(model, arrays["test_src"][:n], arrays["test_tgt"][:n], vocab, align))
