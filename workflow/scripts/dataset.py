import logging

from attend.artifacts import save_dataset
from attend.logs import log_to
from attend.tasks import build_dataset, load_task_modules

log_to(snakemake.log[0])
load_task_modules(snakemake.params.task_modules)
task, seed = snakemake.wildcards.task, int(snakemake.wildcards.seed)
corpus = snakemake.input.corpus or None
arrays, record = build_dataset(task, snakemake.params.data, seed, corpus=corpus)
save_dataset(snakemake.output.npz, snakemake.output.vocab, arrays, record)
logging.info("%s seed %d: %s", task, seed, {k: v.shape for k, v in arrays.items()})
