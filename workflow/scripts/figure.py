import importlib

from attend.logs import log_to

log_to(snakemake.log[0])
module = importlib.import_module(snakemake.params.module)
module.render(dict(snakemake.params.analysis), dict(snakemake.params.tables),
              snakemake.output.pdf, snakemake.output.png)
