import json

from attend.logs import log_to
from attend.tasks.translation import fetch_corpus

log_to(snakemake.log[0])
cfg = snakemake.params.corpus
info = fetch_corpus(
    snakemake.output.text,
    local=cfg.get("local"),
    search=cfg.get("search", []),
    url=cfg["url"],
    sha256=cfg["sha256"],
)
with open(snakemake.output.provenance, "w") as fh:
    json.dump(info, fh, indent=1)
