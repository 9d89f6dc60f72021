import json
from pathlib import Path

from attend.artifacts import write_text
from attend.gold_alignment import fetch_gold
from attend.logs import log_to

log_to(snakemake.log[0])
settings = snakemake.params.gold
info = fetch_gold(
    Path(snakemake.output.pairs).parent,
    local=settings["local"],
    search=settings["search"],
    url=settings["url"],
    sha256=settings["sha256"],
)
write_text(snakemake.output.provenance, json.dumps(info, indent=1) + "\n")
