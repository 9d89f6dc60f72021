import logging
from pathlib import Path

from attend.logs import log_to

log_to(snakemake.log[0])

from attend import probe  # noqa: E402
from attend.analysis.measure import measure  # noqa: E402
from attend.artifacts import load_vocab, save_analysis  # noqa: E402

wc = snakemake.wildcards
recorded = probe.load(
    snakemake.input.probe, expect={"task": wc.task, "arch": wc.arch, "seed": int(wc.seed), **snakemake.params.identity}
)
tables, arrays, skipped = measure(recorded, load_vocab(snakemake.input.vocab)["dictionary"], snakemake.params.n_samples)
for name, why in skipped.items():
    logging.info("%s: skipped, %s", name, why)
save_analysis(tables, arrays, snakemake.output.arrays, {Path(p).stem: p for p in snakemake.output.tables})
