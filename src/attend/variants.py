"""Variants compared (README, "Variants"): every variant's claims side by side, and the two
measurements F4 rests on (the μ·μ share and the argmax agreement with the mean attention)
per variant × task × architecture, as seed means.

A variant is a named set of overrides of the model and train settings (``variants:`` in
the config; ``attend.config.task_settings`` merges them); the workflow runs each as a
branch of its own under ``results/variants/<name>/`` and builds these two tables in
``results/tables/`` from every variant's ``claims.csv``, ``term_shares.csv`` and
``approximation.csv``. numpy and pandas only.
"""

from __future__ import annotations

import pandas as pd

from .claims import f4_points, whole_model

# The comparison tables, declared once (the workflow plans them with two variants or more).
COMPARISON_TABLES = ("variant_claims", "variant_shares")
CLAIM_COLUMNS = ["variant", "claim", "value", "status", "seeds_passing", "pooled"]
SHARE_COLUMNS = ["variant", "task", "arch", "n", "mu_mu_share_mean", "mu_mu_share_sd",
                 "argmax_agreement_mean", "argmax_agreement_sd"]


def variant_claims(claims: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per variant × claim, in the order given (base first): the claim's value
    (pooled over seeds), its status, how many seeds pass and what the pool holds."""
    frames = [df.assign(variant=name) for name, df in claims.items() if len(df)]
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
            rows.append({"variant": name, "task": task, "arch": arch, "n": int(g["seed"].nunique()),
                         "mu_mu_share_mean": g["share"].mean(), "mu_mu_share_sd": g["share"].std(),
                         "argmax_agreement_mean": g["value"].mean(), "argmax_agreement_sd": g["value"].std()})
    return pd.DataFrame(rows, columns=SHARE_COLUMNS)
