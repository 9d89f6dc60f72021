"""Probes that pass the format's checks but whose measurements would mean nothing are
refused, naming the measurement and the cause, instead of reporting numbers."""

import numpy as np
import pandas as pd
import pytest

from attend.analysis.measure import MIN_SEQUENCES, MeasurementError, check_finite, measure


def test_a_probe_of_one_sequence_is_refused(make_probe):
    """It reported "mu carries 100% of the variance, agreement 100%"."""
    with pytest.raises(MeasurementError, match="holds 1 sequence; the decomposition needs at least 20"):
        measure(make_probe(n=1), {}, n_samples=1)
    measure(make_probe(n=MIN_SEQUENCES), {}, n_samples=1)  # the minimum itself is measured


def test_states_without_variance_are_refused(make_probe):
    p = make_probe(arch="ved")
    p["dec_states"] = np.zeros_like(p["dec_states"])
    with pytest.raises(MeasurementError, match="'dec_states' are the same at every valid position"):
        measure(p, {}, n_samples=1)


def test_a_non_finite_table_is_refused_naming_the_measurement(make_probe):
    p = make_probe()
    tables = {"term_shares": pd.DataFrame({"share": [0.5, np.inf]}), "dictionary": pd.DataFrame({"correct": [np.nan]})}
    with pytest.raises(MeasurementError, match=r"'term_shares' came out non-finite \(1 value\(s\) of 'share'\)"):
        check_finite(tables, p)
    check_finite({"dictionary": tables["dictionary"]}, p)  # an empty 'correct' is a word without a translation


@pytest.mark.parametrize("factor, refused", [(1e3, False), (1e30, True)])
def test_states_on_a_scale_out_of_float32s_range_are_refused(make_probe, factor, refused):
    """States x factor with W_q, W_k / factor: the same scores, so the same attention, and a
    valid probe. At 1e3 the shares are those of scale 1; at 1e30 W_q W_kᵀ underflows in
    float32 and every term came out 0 (shares 0, silently): now refused."""
    p, scaled = make_probe(), make_probe()
    for key in ("enc_states", "dec_states"):
        scaled[key] = (scaled[key] * np.float32(factor)).astype(np.float32)
    for key in ("W_q", "W_k"):
        scaled[key] = (scaled[key] / np.float32(factor)).astype(np.float32)
    if refused:
        with pytest.raises(MeasurementError, match=r"the nine terms of \(layer 0, head 0\) do not add up"):
            measure(scaled, {}, n_samples=1)
        return
    shares = measure(p, {}, n_samples=1)[0]["term_shares"]
    np.testing.assert_allclose(measure(scaled, {}, n_samples=1)[0]["term_shares"]["share"], shares["share"], atol=1e-4)
