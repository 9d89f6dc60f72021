from attend.logs import log_to

log_to(snakemake.log[0])

from pathlib import Path  # noqa: E402

from attend import probe  # noqa: E402
from attend.analysis.alignment import TABLE, gold_alignment  # noqa: E402
from attend.artifacts import save_analysis  # noqa: E402

wc = snakemake.wildcards
recorded = probe.load(
    snakemake.input.probe, expect={"task": wc.task, "arch": wc.arch, "seed": int(wc.seed), **snakemake.params.identity}
)
table, arrays = gold_alignment(recorded, snakemake.params.max_len)
save_analysis({TABLE: table}, arrays, snakemake.output.arrays, {Path(p).stem: p for p in snakemake.output.tables})
