from pathlib import Path

from attend import tables
from attend.logs import log_to

log_to(snakemake.log[0])
p = snakemake.params
built = {
    "accuracy": tables.accuracy(p.metrics),
    "training_log": tables.stack(p.logs),
    **{name: tables.stack(paths) for name, paths in p.measured.items()},
}
outputs = {Path(f).stem: f for f in snakemake.output.tables}
for name, df in built.items():
    df.to_csv(outputs[name], index=False)
    tables.seed_summary(df).to_csv(outputs[name].replace(".csv", "_summary.csv"), index=False)
