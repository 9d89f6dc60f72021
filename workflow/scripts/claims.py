from pathlib import Path

from attend.artifacts import read_table
from attend.claims import claims, summary_markdown
from attend.logs import log_to
from attend.tables import check_rows
from attend.tasks import load_task_modules

log_to(snakemake.log[0])
load_task_modules(snakemake.params.task_modules)
tables = {name: read_table(path) for name, path in snakemake.input.items()}
for name, path in snakemake.input.items():
    check_rows(tables[name], snakemake.params.identities, path)
table = claims(
    tables["accuracy"], tables["approximation"], tables["term_shares"], tables["dictionary"], tables["gold_alignment"]
)
table.to_csv(snakemake.output.csv, index=False)
Path(snakemake.output.md).write_text(summary_markdown(table))
