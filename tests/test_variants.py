"""The comparison of variants on constructed tables: every variant's claims side by side,
and figure 6's points per variant as seed means."""

import numpy as np
import pandas as pd
import pytest
from test_claims import tables

from attend.claims import CHECKS, claims
from attend.variant_comparison import CLAIM_COLUMNS, SHARE_COLUMNS, variant_claims, variant_shares


def _variant_tables(**kwargs):
    acc, approx, shares, words, _gold = tables(**kwargs)
    return {"accuracy": acc, "approximation": approx, "term_shares": shares, "dictionary": words}


def test_variant_claims_has_one_row_per_variant_and_claim():
    base = claims(*tables())
    weak = claims(*tables(dictionary_accuracy={1: 0.8}))  # F3 fails on seed 1
    table = variant_claims({"base": base, "weak": weak})
    assert list(table.columns) == CLAIM_COLUMNS
    assert list(table["variant"]) == ["base"] * len(CHECKS) + ["weak"] * len(CHECKS)
    cell = table.set_index(["variant", "claim"])
    assert cell.loc[("base", "F3"), "status"] == "pass" and cell.loc[("base", "F3"), "seeds_passing"] == "3/3"
    assert cell.loc[("weak", "F3"), "status"] == "fail" and cell.loc[("weak", "F3"), "seeds_passing"] == "2/3"
    assert cell.loc[("weak", "F3"), "value"] == pytest.approx(2.8 / 3)
    assert cell.loc[("weak", "F1"), "status"] == "pass"
    assert (table["pooled"] == "3 seeds").all()


def test_variant_claims_of_nothing_is_an_empty_table_with_its_columns():
    assert list(variant_claims({}).columns) == CLAIM_COLUMNS


def test_variant_shares_are_seed_means_of_figure_6s_points():
    """The variant 'shifted' has seed s's μ·μ share raised by 0.01 s: its seed mean is
    0.01 above base's, its sd over seeds 0, 1, 2 is 0.01, and n counts the seeds."""
    base = _variant_tables()
    shifted = _variant_tables()
    s = shifted["term_shares"]
    mu = s["term"] == "mu·mu"
    s.loc[mu, "share"] = s.loc[mu, "share"] + 0.01 * s.loc[mu, "seed"]
    table = variant_shares(
        {"base": base["term_shares"], "shifted": s},
        {"base": base["approximation"], "shifted": shifted["approximation"]},
    )
    assert list(table.columns) == SHARE_COLUMNS
    assert len(table) == 2 * 5 * 2  # variants × tasks × (AED, AO); no VED rows
    assert set(table["arch"]) == {"aed", "ao"} and (table["n"] == 3).all()
    row = table.set_index(["variant", "task", "arch"])
    assert row.loc[("base", "sort", "aed"), "mu_mu_share_mean"] == pytest.approx(0.2)
    assert row.loc[("base", "sort", "aed"), "mu_mu_share_sd"] == pytest.approx(0)
    assert row.loc[("shifted", "sort", "aed"), "mu_mu_share_mean"] == pytest.approx(0.21)
    assert row.loc[("shifted", "sort", "aed"), "mu_mu_share_sd"] == pytest.approx(0.01)
    assert row.loc[("base", "reverse", "ao"), "argmax_agreement_mean"] == pytest.approx(0.85)


def test_variant_shares_read_a_multihead_model_as_a_whole():
    """Where the tables hold a head column, only the model's own rows (head -1) count."""
    base = _variant_tables(seeds=(0,))
    per_head = {
        name: pd.concat([df.assign(head=-1), df.assign(head=0, **{col: 0.0})])
        for name, df, col in (
            ("term_shares", base["term_shares"], "share"),
            ("approximation", base["approximation"], "value"),
        )
    }
    table = variant_shares({"mh": per_head["term_shares"]}, {"mh": per_head["approximation"]})
    row = table.set_index(["task", "arch"])
    assert row.loc[("one_to_one", "aed"), "mu_mu_share_mean"] == pytest.approx(0.9)
    assert (table["n"] == 1).all() and table["mu_mu_share_sd"].isna().all()


def test_a_variant_without_attention_models_has_no_share_rows():
    base = _variant_tables(seeds=(0,))
    ved_only = {k: df[df["arch"] == "ved"] for k, df in base.items()}
    table = variant_shares(
        {"base": base["term_shares"], "ved": ved_only["term_shares"]},
        {"base": base["approximation"], "ved": ved_only["approximation"]},
    )
    assert set(table["variant"]) == {"base"} and np.isfinite(table["mu_mu_share_mean"]).all()
