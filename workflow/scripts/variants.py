# The comparison of variants: variant_claims or variant_shares, by the rule's name.
from attend import variant_comparison
from attend.artifacts import read_table
from attend.logs import log_to
from attend.tables import check_rows

log_to(snakemake.log[0])
params = snakemake.params


def read(paths, check=True):
    """Every variant's table, checked to hold that variant's models (claims.csv is checked by
    the claims job that reads its tables)."""
    tables = {name: read_table(path) for name, path in dict(paths).items()}
    if check:
        for name, path in dict(paths).items():
            check_rows(tables[name], params.identities[name], path)
    return tables


if snakemake.rule == "variant_claims":
    table = variant_comparison.variant_claims(read(params.claims, check=False))
else:
    table = variant_comparison.variant_shares(read(params.term_shares), read(params.approximation))
table.to_csv(snakemake.output.table, index=False)
