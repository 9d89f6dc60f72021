"""The variants compared (docs/variants.md): every variant's claims side by side
(:func:`variant_claims`), and the two measurements F4 rests on (the μ·μ share and the argmax
agreement with the mean attention) per variant × task × architecture, as seed means
(:func:`variant_shares`). What a variant is lives in :mod:`attend.variants`. No Snakemake,
no Keras.
"""

from __future__ import annotations

import pandas as pd

from .claims import f4_points, paper_scope
from .table_layout import whole_model

# The comparison tables, declared once (the workflow plans them with two variants or more).
COMPARISON_TABLES = ("variant_claims", "variant_shares")
CLAIM_COLUMNS = ["variant", "claim", "value", "status", "seeds_passing", "pooled"]
SHARE_COLUMNS = [
    "variant",
    "task",
    "arch",
    "n",
    "mu_mu_share_mean",
    "mu_mu_share_sd",
    "argmax_agreement_mean",
    "argmax_agreement_sd",
]


def variant_claims(claims: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per variant × claim of the paper's scope (``attend.claims``), in the order
    given (base first): the claim's value (pooled over seeds), its status, how many seeds
    pass and what the pool holds."""
    frames = [paper_scope(df).assign(variant=name) for name, df in claims.items() if len(df)]
    if not frames:
        return pd.DataFrame(columns=CLAIM_COLUMNS)
    return pd.concat(frames, ignore_index=True)[CLAIM_COLUMNS]


def variant_shares(term_shares: dict[str, pd.DataFrame], approximation: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per variant × task × attention architecture: the seed mean, standard
    deviation and count of the overall μ·μ share and of the argmax agreement of single
    examples' attention with the mean attention Ā — figure 6's points
    (:func:`attend.claims.f4_points`), summarised over seeds."""
    rows = []
    for name, shares in term_shares.items():
        approx = approximation[name]
        if shares.empty or approx.empty:
            continue
        points = f4_points(whole_model(approx), whole_model(shares), "argmax_agreement")
        for (task, arch), g in points.groupby(["task", "arch"], sort=False):
            rows.append(
                {
                    "variant": name,
                    "task": task,
                    "arch": arch,
                    "n": int(g["seed"].nunique()),
                    "mu_mu_share_mean": g["share"].mean(),
                    "mu_mu_share_sd": g["share"].std(),
                    "argmax_agreement_mean": g["value"].mean(),
                    "argmax_agreement_sd": g["value"].std(),
                }
            )
    return pd.DataFrame(rows, columns=SHARE_COLUMNS)
