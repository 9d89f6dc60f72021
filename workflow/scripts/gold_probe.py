from attend.logs import log_to

log_to(snakemake.log[0])

from attend.gpu import hide_gpus  # noqa: E402

hide_gpus()  # 447 pairs, a few forward passes: the CPU is enough

import logging  # noqa: E402
from pathlib import Path  # noqa: E402

from attend import gold_alignment, gold_probe, probe  # noqa: E402
from attend.artifacts import load_dataset, regenerate  # noqa: E402
from attend.model_files import load_trained_model  # noqa: E402

task, arch, seed = snakemake.wildcards.task, snakemake.wildcards.arch, int(snakemake.wildcards.seed)
_arrays, vocab = load_dataset(snakemake.input.npz, snakemake.input.vocab, expect={"task": task, "seed": seed})
expect = {"task": task, "arch": arch, "seed": seed, "dataset": vocab["npz_sha256"], **snakemake.params.identity}
model = load_trained_model(snakemake.input.model, snakemake.input.metrics, snakemake.params.checkpoint, expect)
# The workflow's copies, checked again: a damaged one is made again by the rule that fetched it.
gold = gold_alignment.read_gold(
    Path(snakemake.input.pairs).parent, snakemake.params.sha256, fix=regenerate(snakemake.input.pairs)
)
arrays, oov = gold_probe.record(model, gold, vocab)
logging.info("%s/%s seed %d: %d gold pairs probed; out-of-vocabulary rates %s", task, arch, seed, len(gold.src), oov)
probe.save(snakemake.output.probe, arrays)
