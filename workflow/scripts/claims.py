from pathlib import Path

import pandas as pd

from attend.claims import claims, summary_markdown
from attend.logs import log_to

log_to(snakemake.log[0])
tables = {name: pd.read_csv(path) for name, path in snakemake.input.items()}
table = claims(tables["accuracy"], tables["approximation"], tables["term_shares"], tables["dictionary"])
table.to_csv(snakemake.output.csv, index=False)
Path(snakemake.output.md).write_text(summary_markdown(table))
