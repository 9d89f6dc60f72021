# The comparison of variants: variant_claims or variant_shares, by the rule's name.
from attend import variants
from attend.logs import log_to
from attend.artifacts import read_table

log_to(snakemake.log[0])
params = snakemake.params


def read(paths):
    return {name: read_table(path) for name, path in dict(paths).items()}


if snakemake.rule == "variant_claims":
    table = variants.variant_claims(read(params.claims))
else:
    table = variants.variant_shares(read(params.term_shares), read(params.approximation))
table.to_csv(snakemake.output.table, index=False)
