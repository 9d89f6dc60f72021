import importlib

from attend.logs import log_to
from attend.tasks import load_task_modules

log_to(snakemake.log[0])
load_task_modules(snakemake.params.task_modules)
module = importlib.import_module(snakemake.params.module)
module.render(dict(snakemake.params.analysis), dict(snakemake.params.tables),
              snakemake.output.pdf, snakemake.output.png, dict(snakemake.params.settings))
