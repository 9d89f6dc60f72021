from pathlib import Path

from attend.logs import log_to

log_to(snakemake.log[0])

from attend import probe  # noqa: E402
from attend.analysis.measure import measure, save_measurements  # noqa: E402
from attend.tasks.base import load_vocab  # noqa: E402

tables, arrays = measure(probe.load(snakemake.input.probe), load_vocab(snakemake.input.vocab)["dictionary"],
                         snakemake.params.n_samples)
save_measurements(tables, arrays, snakemake.output.arrays,
                  {Path(p).stem: p for p in snakemake.output.tables})
