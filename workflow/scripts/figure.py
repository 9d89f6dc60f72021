import importlib

from attend.artifacts import check_model_file, read_table
from attend.logs import log_to
from attend.tables import TABLES, check_rows
from attend.tasks import load_task_modules

log_to(snakemake.log[0])
load_task_modules(snakemake.params.task_modules)
# Every file drawn must be base's: each model's analysis and CSVs, and the aggregated tables' rows.
for path, expect in snakemake.params.expect.items():
    check_model_file(path, expect)
for name, path in snakemake.params.tables.items():
    if name in TABLES and isinstance(path, str):  # an aggregated table (not the per-seed CSVs above)
        check_rows(read_table(path), snakemake.params.identities, path)
module = importlib.import_module(snakemake.params.module)
module.render(
    dict(snakemake.params.analysis),
    dict(snakemake.params.tables),
    snakemake.output.pdf,
    snakemake.output.png,
    dict(snakemake.params.settings),
)
