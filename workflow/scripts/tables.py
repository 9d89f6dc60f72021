from attend import tables
from attend.logs import log_to

log_to(snakemake.log[0])
name, runs = snakemake.wildcards.table, snakemake.params.runs
df = tables.accuracy(runs) if name == "accuracy" else tables.stack(runs)
df.to_csv(snakemake.output.table, index=False)
tables.seed_summary(df).to_csv(snakemake.output.summary, index=False)
