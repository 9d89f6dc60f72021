"""Artifacts that prove what they are: every consumer checks the identity a file records
against what it expects, and every unreadable file names itself and the command that
makes it again. Also the code versions that make results follow the code."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from attend import probe, provenance, tables
from attend.tasks import build_dataset
from attend.artifacts import DataError, load_dataset, read_model_csv, save_dataset

CFG = {"sizes": {"train": 20, "valid": 5, "test": 5},
       "one_to_one": {"vocab_size": 5, "min_len": 3, "max_len": 5},
       "sort": {"vocab_size": 8, "min_len": 3, "max_len": 5}}


@pytest.fixture
def datasets(tmp_path):
    out = {}
    for task in ("one_to_one", "sort"):
        arrays, record = build_dataset(task, CFG, 0)
        folder = tmp_path / task
        save_dataset(folder / "dataset.npz", folder / "vocab.json", arrays, record)
        out[task] = folder
    return out


def test_a_dataset_checks_its_pair_and_its_task(datasets):
    o2o, sort = datasets["one_to_one"], datasets["sort"]
    load_dataset(o2o / "dataset.npz", o2o / "vocab.json", expect={"task": "one_to_one", "seed": 0})
    shutil.copy(sort / "dataset.npz", o2o / "dataset.npz")  # a dataset copied from another task
    with pytest.raises(DataError, match="is not the dataset .*vocab.json was written with"):
        load_dataset(o2o / "dataset.npz", o2o / "vocab.json")
    with pytest.raises(DataError, match=r"task is 'sort', expected 'one_to_one'.*--force"):
        load_dataset(sort / "dataset.npz", sort / "vocab.json", expect={"task": "one_to_one", "seed": 0})


def test_a_probe_of_another_model_is_refused(tmp_path, make_probe):
    arrays = make_probe(n=8, arch="ved")
    arrays["identity"] = np.array(json.dumps({"task": "one_to_one", "arch": "ved", "seed": 0}))
    probe.save(tmp_path / "probe.npz", arrays)
    probe.load(tmp_path / "probe.npz", expect={"task": "one_to_one", "arch": "ved", "seed": 0})
    with pytest.raises(DataError, match=r"probe.npz: this probe belongs elsewhere \(arch is 'ved', expected 'aed'\)"):
        probe.load(tmp_path / "probe.npz", expect={"task": "one_to_one", "arch": "aed", "seed": 0})


@pytest.mark.parametrize("content, message", [
    ("{}", r"the metrics JSON lacks \['task', 'arch', 'seed'"),
    ('{"test_seq', "not a valid metrics JSON"),
    (json.dumps({"task": "sort", "arch": "aed", "seed": 0, "test_token_acc": 1, "test_seq_acc": 1, "steps": 5}),
     "task is 'sort', expected 'one_to_one'"),
])
def test_bad_metrics_name_the_file(tmp_path, content, message):
    path = tmp_path / "metrics.json"
    path.write_text(content)
    with pytest.raises(DataError, match=message) as err:
        tables.accuracy([{"task": "one_to_one", "arch": "aed", "seed": 0, "path": str(path)}])
    assert str(path) in str(err.value) and f"--force {path}" in str(err.value)


LOG = "epoch,loss,step,val_loss,val_seq_acc,val_token_acc\n0,1.5,50,1.4,0.1,0.5\n1,1.2,100,1.1,0.2,0.6\n"


@pytest.mark.parametrize("content, message", [
    ("", "not a readable table"),
    ("epoch,loss,step,val_seq_acc\n", "empty or lacks columns"),
    ("epoch,loss,step,val_seq_acc\n0,1.5,50,0.1\n", r"lacks columns \(needs rows with .*'val_loss'"),
    (LOG[:-4] + "\n", "row 2 has no value of 'val_token_acc'"),   # the last row lacks only its last column
    (LOG.replace(",1.4,", ",,"), "row 1 has no value of 'val_loss'"),
    (LOG.replace("0.6", ""), "row 2 has no value of 'val_token_acc'"),
])
def test_an_empty_or_cut_training_log_is_refused(tmp_path, content, message):
    path = tmp_path / "train_log.csv"
    path.write_text(content)
    with pytest.raises(DataError, match=message) as err:
        read_model_csv(path)
    assert str(path) in str(err.value) and f"--force {path}" in str(err.value)
    path.write_text(LOG)
    assert len(read_model_csv(path)) == 2


def test_a_measurement_table_checks_its_analysis(tmp_path):
    path = tmp_path / "variance.csv"
    pd.DataFrame({"side": ["encoder"], "component": ["mu"], "fraction": [1.0]}).to_csv(path, index=False)
    np.savez(tmp_path / "analysis.npz", identity=np.array(json.dumps({"task": "sort", "arch": "aed", "seed": 0})))
    with pytest.raises(DataError, match="task is 'sort', expected 'one_to_one'"):
        tables.stack([{"task": "one_to_one", "arch": "aed", "seed": 0, "path": str(path)}])
    assert len(tables.stack([{"task": "sort", "arch": "aed", "seed": 0, "path": str(path)}])) == 1


def test_a_truncated_model_names_the_file(tmp_path):
    pytest.importorskip("keras")
    from attend.model_files import load_model

    path = tmp_path / "model.keras"
    path.write_bytes(b"PK\x03\x04 not a whole zip")
    with pytest.raises(DataError, match=f"{path}: not a readable Keras model.*--force {path}"):
        load_model(path)


def test_code_versions_follow_imports_and_bytes(tmp_path, monkeypatch):
    files = {p.name for p in provenance.source_files("attend.training")}
    assert {"training.py", "models.py", "architectures.py", "scoring.py", "checkpoint.py"} <= files
    assert "plotting" not in " ".join(str(p) for p in provenance.source_files("attend.training"))
    figure = {p.name for p in provenance.source_files("attend.plotting.fig06_summary")}
    assert {"fig06_summary.py", "claims.py", "style.py"} <= figure
    # A module of the user's own (a task module) is found where Python would import it.
    (tmp_path / "my_task.py").write_text("from attend.tasks.base import PAD\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    before = provenance.code_version.__wrapped__("my_task")
    assert "base.py" in {p.name for p in provenance.source_files.__wrapped__("my_task")}
    (tmp_path / "my_task.py").write_text('"""A docstring."""\n\nfrom attend.tasks.base import PAD  # a comment\n')
    assert provenance.code_version.__wrapped__("my_task") == before, "comments and docstrings change no result"
    (tmp_path / "my_task.py").write_text("from attend.tasks.base import PAD, EOS\n")
    assert provenance.code_version.__wrapped__("my_task") != before
    with pytest.raises(ValueError, match="neither a module of the attend package"):
        provenance.source_files.__wrapped__("no_such_module_here")
