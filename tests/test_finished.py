"""The kept model's checks that need no training: a model file against its metrics' record,
and the advice a refused model gets."""

import json

import pytest

from attend import finished
from attend.artifacts import DataError, file_digest


@pytest.fixture
def trained(tmp_path):
    model, metrics = tmp_path / "model.keras", tmp_path / "metrics.json"
    model.write_bytes(b"weights")
    metrics.write_text(json.dumps({"seed": 0, "model_sha256": file_digest(model)}))
    return model, metrics


def test_the_model_its_metrics_record_passes(trained):
    finished.check_trained_model(*trained)


def test_a_model_altered_after_training_is_refused(trained):
    model, metrics = trained
    model.write_bytes(b"other weights")
    with pytest.raises(DataError, match="is not the model .*metrics.json was written with"):
        finished.check_trained_model(model, metrics)


def test_advice_names_the_kept_copy_that_forcing_would_restore(tmp_path):
    model = tmp_path / "model.keras"
    err = DataError(f"{model}: this model belongs elsewhere (seed is 1, expected 0)")
    plain = finished.advice(err, model, tmp_path / "checkpoint")
    assert "snakemake --cores all --force" in plain and "move it away" not in plain
    (tmp_path / "checkpoint" / "finished").mkdir(parents=True)
    told = finished.advice(err, model, tmp_path / "checkpoint")
    assert f"{tmp_path / 'checkpoint' / 'finished'}, which forcing the job would restore: move it away first" in told
    assert told.index("move it away") < told.index("snakemake --cores all --force")
