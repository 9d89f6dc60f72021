import shutil
from pathlib import Path

from attend.artifacts import write_text
from attend.logs import log_to
from attend.results_doc import results_markdown
from attend.tasks import load_task_modules

log_to(snakemake.log[0])
load_task_modules(snakemake.params.task_modules)
figures = {}
for made, copy in zip(snakemake.input.figures, snakemake.output.figures):
    shutil.copyfile(made, copy)
    figures[Path(made).stem] = str(Path(copy).relative_to(Path(snakemake.output.results).parent))
text = results_markdown(dict(snakemake.params.tables), snakemake.params.benchmarks, figures, snakemake.params.about)
write_text(snakemake.output.results, text)
