"""attend.api, the analysis as functions: the same numbers as the pipeline's measurements
(attend.analysis.measure) on the same arrays, and the bias folding exact."""

import numpy as np
import pytest

from attend import api, provenance
from attend.analysis.measure import measure
from attend.table_layout import whole_model


@pytest.fixture
def arrays(make_probe):
    return make_probe(n=48, s=9, t=8, units=10, arch="aed", seed=3)


def test_decompose_splits_the_states_exactly(arrays):
    parts = api.decompose(arrays["enc_states"], arrays["enc_tokens"], arrays["enc_len"])
    valid = np.arange(9)[None] < arrays["enc_len"][:, None]
    rebuilt = parts.mu[None] + parts.chi[arrays["enc_tokens"]] + parts.delta
    np.testing.assert_allclose(rebuilt[valid], arrays["enc_states"][valid], atol=1e-5)
    assert (parts.delta[~valid] == 0).all()
    assert sum(parts.variance.values()) == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(ValueError, match="lengths must lie in 1..9"):
        api.decompose(arrays["enc_states"], arrays["enc_tokens"], arrays["enc_len"] + 5)


def test_the_functions_give_the_pipelines_numbers(arrays):
    tables, figure_arrays, _ = measure(arrays, {}, 2)
    args = (
        arrays["dec_states"],
        arrays["dec_inputs"],
        arrays["dec_len"],
        arrays["enc_states"],
        arrays["enc_tokens"],
        arrays["enc_len"],
        arrays["W_q"],
        arrays["W_k"],
        float(arrays["scale"]),
    )
    shares = api.term_shares(*args, arrays["attention"])
    table = whole_model(tables["term_shares"]).query("step == -1")
    np.testing.assert_allclose(shares["share"], table.set_index("term").loc[list(api.TERMS), "share"], rtol=1e-6)
    np.testing.assert_allclose(
        api.mean_attention(arrays["attention"], arrays["dec_len"]), figure_arrays["mean_attention"], rtol=1e-6
    )
    dec = api.decompose(arrays["dec_states"], arrays["dec_inputs"], arrays["dec_len"], len(arrays["tgt_vocab"]))
    enc = api.decompose(arrays["enc_states"], arrays["enc_tokens"], arrays["enc_len"], len(arrays["src_vocab"]))
    mu_scores = api.temporal_scores(dec.mu, enc.mu, arrays["W_q"], arrays["W_k"], float(arrays["scale"]))
    np.testing.assert_allclose(mu_scores, figure_arrays["temporal_scores"], rtol=1e-5, atol=1e-6)
    metrics = api.approximation(arrays["attention"], arrays["dec_len"], arrays["enc_len"], mu_scores)
    expected = dict(zip(*whole_model(tables["approximation"])[["metric", "value"]].T.values))
    for name, value in metrics.items():
        assert value == pytest.approx(expected[name], rel=1e-6), name
    assert "temporal_argmax_agreement" not in api.approximation(
        arrays["attention"], arrays["dec_len"], arrays["enc_len"]
    )
    terms = api.score_terms(*args)
    valid = (np.arange(8)[None] < arrays["dec_len"][:, None])[:, :, None] & (
        np.arange(9)[None] < arrays["enc_len"][:, None]
    )[:, None, :]
    np.testing.assert_allclose(
        terms.sum(0)[valid], api.scores(arrays["dec_states"], arrays["enc_states"], *args[6:])[valid], atol=1e-4
    )


def _code_files(module: str) -> set[str]:
    return {path.relative_to(provenance.ROOT).as_posix() for path in provenance.source_files(module)}


def test_the_api_imports_nothing_of_the_workflows_config():
    """attend.api reads its one default (analysis.n_samples) from the schema file alone: the
    code it runs holds neither the config, nor the task registry, nor the variants."""
    files = _code_files("attend.api")
    assert "config_schema.py" in files and "api.py" in files
    workflow = {"config.py", "variants.py"} | {f for f in files if f.startswith("tasks/")}
    assert not workflow & files, sorted(workflow & files)


def test_fold_bias_keeps_the_product_and_puts_the_bias_in_mu(arrays):
    rng = np.random.default_rng(0)
    w, b = rng.normal(size=(10, 4)), rng.normal(size=4)
    states, lengths, tokens = arrays["enc_states"], arrays["enc_len"], arrays["enc_tokens"]
    folded, w_folded = api.fold_bias(states, lengths, w, b)
    valid = np.arange(9)[None] < lengths[:, None]
    np.testing.assert_allclose((folded @ w_folded)[valid], (states @ w + b)[valid], atol=1e-5)
    parts = api.decompose(folded, tokens, lengths)
    assert np.allclose(parts.mu[:, -1], 1) and np.allclose(parts.chi[:, -1], 0) and np.allclose(parts.delta[..., -1], 0)


def test_make_probe_checks_and_masks(arrays):
    made = api.make_probe(
        enc_states=arrays["enc_states"] + 1,
        dec_states=arrays["dec_states"],
        enc_tokens=arrays["enc_tokens"],
        dec_inputs=arrays["dec_inputs"],
        enc_len=arrays["enc_len"],
        dec_len=arrays["dec_len"],
        src_vocab=arrays["src_vocab"],
        tgt_vocab=arrays["tgt_vocab"],
        attention=arrays["attention"],
        W_q=arrays["W_q"],
        W_k=arrays["W_k"],
        scale=float(arrays["scale"]),
        arch="mine",
    )
    assert (made["enc_states"][np.arange(9)[None] >= arrays["enc_len"][:, None]] == 0).all()
    assert str(made["arch"]) == "mine" and made["enc_tokens"].dtype == np.int32
    # the lengths default to the ids that are not <pad>: the same probe without them
    counted = api.make_probe(**{k: made[k] for k in made if k not in ("format_version", "enc_len", "dec_len")})
    assert set(counted) == set(made)
    for key in made:
        np.testing.assert_array_equal(counted[key], made[key], err_msg=key)
    with pytest.raises(ValueError, match="'heads_of_mine' is not a key"):
        api.make_probe(
            **{
                k: arrays[k]
                for k in (
                    "enc_states",
                    "dec_states",
                    "enc_tokens",
                    "dec_inputs",
                    "enc_len",
                    "dec_len",
                    "src_vocab",
                    "tgt_vocab",
                )
            },
            heads_of_mine=3,
        )
