"""Config helpers and the shipped configs against the schema."""

from pathlib import Path

import yaml

from attend.config import config_errors, merged, task_settings

REPO = Path(__file__).resolve().parents[1]
SCHEMA = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())


def load(name):
    return yaml.safe_load((REPO / "config" / name).read_text())


def test_shipped_configs_are_valid():
    default = load("config.yaml")
    assert config_errors(default, SCHEMA) == []
    # smoke.yaml is merged over config.yaml, as Snakemake does with --configfile
    assert config_errors(merged(default, load("smoke.yaml")), SCHEMA) == []


def test_task_overrides_merge_over_defaults():
    config = load("config.yaml")
    model, train = task_settings(config, "translation")
    assert model["input_encoding"] == "embedding" and model["units"] == config["model"]["units"]
    assert train["max_steps"] == config["overrides"]["translation"]["train"]["max_steps"]
    assert train["batch_size"] == config["train"]["batch_size"]
    model, train = task_settings(config, "one_to_one")
    assert model == config["model"] and train == config["train"]
    assert config["model"]["input_encoding"] == "onehot", "merging must not modify the defaults"


def test_errors_name_the_key_path():
    config = load("config.yaml")
    config["data"]["escan"]["min_out"] = "twenty"
    config["overrides"]["sort"] = {"train": {"max_steps": 0}}
    config["overrides"]["bogus_task"] = {}
    errors = config_errors(config, SCHEMA)
    assert any(e.startswith("data.escan.min_out: 'twenty' is not of type 'integer'") for e in errors)
    assert any(e.startswith("overrides.sort.train.max_steps: 0 is less than the minimum of 1") for e in errors)
    assert any(e.startswith("overrides:") and "bogus_task" in e for e in errors)
