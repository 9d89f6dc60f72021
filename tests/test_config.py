"""The config: the shipped files against the schema, defaults from the schema alone,
coercion, cross-field checks, and the key catalog config/README.md."""

import importlib
import inspect
import pkgutil
import subprocess
import sys
import types
from pathlib import Path

import pytest
import yaml

import attend
from attend import config as cfg
from attend import config_schema, provenance, variants
from attend.tasks import REGISTRY, load_task_modules

REPO = Path(__file__).resolve().parents[1]


def load(name):
    return yaml.safe_load((REPO / "config" / name).read_text())


def test_shipped_configs_are_valid():
    default, _ = cfg.resolve(load("config.yaml"))
    assert default["tasks"] == list(load_task_modules())
    # smoke.yaml is merged over config.yaml, as Snakemake does with --configfile
    smoke, _ = cfg.resolve(variants.merged(load("config.yaml"), load("smoke.yaml")))
    assert smoke["train"]["max_steps"] == 150 and smoke["model"]["units"] == 16
    era, _ = cfg.resolve(variants.merged(load("config.yaml"), load("escan_paper_era.yaml")))
    assert era["data"]["escan"]["min_out"] == 20 and era["data"]["escan"]["exclude_phrases"] == []
    paper, _ = cfg.resolve(variants.merged(load("config.yaml"), load("paper.yaml")))
    assert len(paper["seeds"]) == 10 and cfg.task_seeds(paper, "translation") == paper["seeds"]
    assert cfg.task_seeds(default, "translation") == [0] and cfg.task_seeds(default, "sort") == [0, 1, 2]
    # transformer.yaml: the default grid plus tfm, nothing else changed
    transformer, _ = cfg.resolve(variants.merged(load("config.yaml"), load("transformer.yaml")))
    assert transformer["architectures"] == default["architectures"] + ["tfm"]
    assert {k: v for k, v in transformer.items() if k != "architectures"} == {
        k: v for k, v in default.items() if k != "architectures"
    }


def test_every_schema_key_has_a_description():
    full = cfg.schema()

    def walk(node, path):
        node = config_schema.resolve_ref(node, full)
        if path:
            assert node.get("description", "").strip(), f"{path} has no description"
        for key, sub in node.get("properties", {}).items():
            walk(sub, f"{path}.{key}" if path else key)

    walk(full, "")


def test_defaults_fill_every_setting_and_overrides_stay_partial():
    resolved, _ = cfg.resolve({"overrides": {"sort": {"train": {"max_steps": 700}}}})
    assert resolved["model"] == cfg.defaults("model")
    assert resolved["data"]["escan"] == cfg.defaults("data.escan")
    assert resolved["overrides"] == {"sort": {"train": {"max_steps": 700}}}
    model, train = variants.task_settings(resolved, "sort")
    assert train["max_steps"] == 700 and train["batch_size"] == cfg.defaults("train")["batch_size"]
    assert model == cfg.defaults("model")
    assert variants.task_settings(resolved, "one_to_one")[1]["max_steps"] == cfg.defaults("train")["max_steps"]


def test_the_schema_as_written_gives_the_configs_defaults():
    """attend.config_schema reads the schema file without the registries: each default it
    writes is the one the config fills in; a key without one is refused by name."""
    written = config_schema.schema_as_written()

    def keys(node, path):
        node = config_schema.resolve_ref(node, written)
        if "default" in node:
            yield path
        for key, sub in node.get("properties", {}).items():
            yield from keys(sub, f"{path}.{key}" if path else key)

    paths = list(keys(written, ""))
    assert {"analysis.n_samples", "model.units", "arch_overrides"} <= set(paths)
    for path in paths:
        assert config_schema.written_default(path) == cfg.defaults(path), path
    with pytest.raises(KeyError, match=r"analysis\.no_such_key: no key 'no_such_key'"):
        config_schema.written_default("analysis.no_such_key")
    with pytest.raises(KeyError, match="writes no default for this key itself"):
        config_schema.written_default("analysis")


def test_the_config_and_the_variants_import_no_claims_nor_measurements():
    """What a config and a variant are sits below what is measured and claimed."""
    for module in ("attend.config", "attend.variants"):
        files = {path.relative_to(provenance.ROOT).as_posix() for path in provenance.source_files(module)}
        above = {f for f in files if f in ("claims.py", "variant_comparison.py", "table_layout.py")}
        above |= {f for f in files if f.startswith(("analysis/", "plotting/"))}
        assert not above, (module, sorted(above))


def _schema_defaults():
    """(key, default) of every leaf default in the schema."""
    full = cfg.schema()
    found = set()

    def walk(node):
        node = config_schema.resolve_ref(node, full)
        for key, sub in node.get("properties", {}).items():
            sub = config_schema.resolve_ref(sub, full)
            default = sub.get("default")
            if default is not None and not isinstance(default, (dict, list, bool)):
                found.add((key, default))
            walk(sub)

    walk(full)
    return found


def repeated_defaults(module, defaults) -> list[str]:
    """Where ``module`` repeats a schema default: a parameter of one of its functions (or
    of its classes' methods) named like a schema key and defaulting to that key's default,
    or an upper-case dict constant holding the key with that value."""
    names = {key for key, _ in defaults}

    def repeated(key, value):
        return key in names and any(k == key and type(d) is type(value) and d == value for k, d in defaults)

    clashes = []
    for name, obj in vars(module).items():
        if inspect.isfunction(obj) or inspect.isclass(obj):
            if getattr(obj, "__module__", None) != module.__name__:
                continue
            functions = [m for m in vars(obj).values() if inspect.isfunction(m)] if inspect.isclass(obj) else [obj]
            clashes += [
                f"{module.__name__}.{fn.__qualname__}({param.name}={param.default!r})"
                for fn in functions
                for param in inspect.signature(fn).parameters.values()
                if repeated(param.name, param.default)
            ]
        elif isinstance(obj, dict) and name.isupper():
            clashes += [
                f"{module.__name__}.{name}[{key!r}] = {value!r}"
                for key, value in obj.items()
                if isinstance(key, str) and repeated(key, value)
            ]
    return clashes


def test_no_default_is_repeated_in_package_code():
    """A default lives in the schema only (walking every module of the package)."""
    defaults = _schema_defaults()
    clashes = []
    for info in pkgutil.walk_packages(attend.__path__, "attend."):
        clashes += repeated_defaults(importlib.import_module(info.name), defaults)
    assert not clashes, "defaults repeated outside the schema: " + ", ".join(clashes)


def test_the_default_check_would_catch_a_copy():
    """The walk above is not vacuous: a module repeating two defaults is caught twice."""
    module = types.ModuleType("attend.fake")
    exec("def build(units=128, depth=3):\n    pass\nDEFAULTS = {'min_count': 5, 'other': 1}\n", module.__dict__)
    module.build.__module__ = "attend.fake"
    assert sorted(repeated_defaults(module, _schema_defaults())) == [
        "attend.fake.DEFAULTS['min_count'] = 5",
        "attend.fake.build(units=128)",
    ]


@pytest.mark.parametrize(
    "override, named",
    [
        ({"tasks": ["one_to_one", "bogus"]}, "tasks.1: 'bogus' is not one of"),
        ({"architectures": ["aed", "transformer"]}, "architectures.1: 'transformer' is not one of"),
        ({"train": {"max_stepz": 5}}, "train: Additional properties are not allowed ('max_stepz' was unexpected)"),
        ({"train": {"max_steps": -3}}, "train.max_steps: -3 is less than the minimum of 1"),
        ({"model": {"units": "many"}}, "model.units: 'many' is not of type 'integer'"),
        ({"model": {"attention": "cosine"}}, "model.attention: 'cosine' is not one of ['learned', 'dot', 'multihead']"),
        ({"overrides": {"bogus_task": {}}}, "overrides: 'bogus_task' is not one of"),
        ({"overrides": {"sort": {"train": {"threads": 4}}}}, "'threads' was unexpected"),
        ({"data": {"escan": {"min_out": "twenty"}}}, "data.escan.min_out: 'twenty' is not of type 'integer'"),
        (
            {"data": {"one_to_one": {"min_len": 9, "max_len": 4}}},
            "data.one_to_one: min_len (9) must not exceed max_len (4)",
        ),
        ({"data": {"sort": {"vocab_size": 10}}}, "max_len (15) must not exceed vocab_size (10)"),
        ({"data": {"escan": {"words": ["run", "fly"]}}}, "data.escan: word 'fly' is not in SCAN's vocabulary"),
        (
            {"data": {"translation": {"valid_fraction": 0.5}}},
            "data.translation.valid_fraction: 0.5 is greater than or equal",
        ),
        (
            {"train": {"max_steps": 150, "eval_every": 100}},
            "train: max_steps (150) must be a multiple of eval_every (100)",
        ),
        (
            {"overrides": {"sort": {"train": {"max_steps": 130}}}},
            "overrides.sort.train: max_steps (130) must be a multiple",
        ),
        ({"analysis": {"n_sequences": 3000}}, "analysis.n_sequences (3000) exceeds data.sizes.test (2000)"),
        ({"seeds": ["zero"]}, "seeds.0: 'zero' is not of type 'integer'"),
        ({"seeds": [0, 2**40]}, "seeds.1: 1099511627776 is greater than the maximum of 4294967295"),
    ],
)
def test_bad_config_names_the_key(override, named):
    with pytest.raises(cfg.ConfigError) as err:
        cfg.resolve(override)
    assert named in str(err.value)
    assert "config/README.md" in str(err.value)


def test_numbers_given_as_strings_or_integral_floats_are_coerced():
    resolved, notes = cfg.resolve(
        {"seeds": ["0", "1", "2"], "train": {"eval_every": 50.0}, "model": {"pe_timescale": "100"}}
    )
    assert resolved["seeds"] == [0, 1, 2]
    assert resolved["train"]["eval_every"] == 50 and isinstance(resolved["train"]["eval_every"], int)
    assert resolved["model"]["pe_timescale"] == 100.0
    assert "seeds.0: read the string '0' as the integer 0" in notes
    assert "train.eval_every: read 50.0 as the integer 50" in notes
    with pytest.raises(cfg.ConfigError, match="train.eval_every: 50.5 is not of type 'integer'"):
        cfg.resolve({"train": {"eval_every": 50.5}})


def test_settings_equal_in_value_resolve_to_one_form():
    """Snakemake compares a job's parameters as text (repr): a config that restates a
    default, writes 1 for 1.0 or lists its keys in another order must resolve to the same
    text, or every job reruns."""
    smoke = load("smoke.yaml")
    plain, _ = cfg.resolve(smoke)
    reordered = dict(reversed(list(smoke.items())))
    reordered["train"] = dict(reversed(list(smoke["train"].items())))
    restated = {
        **smoke,
        "train": {"learning_rate": 0.003, "clipnorm": 1, **smoke["train"]},
        "data": {**smoke["data"], "translation": {"min_count": 5, **smoke["data"]["translation"]}},
    }
    for other in (reordered, restated):
        again, _ = cfg.resolve(other)
        assert repr(again) == repr(plain)
    assert isinstance(cfg.resolve({"model": {"pe_timescale": 100}})[0]["model"]["pe_timescale"], float)
    # the variants keep their order, which means something (the first with equal settings owns a model)
    two, _ = cfg.resolve({"variants": {"zeta": {"model": {"units": 8}}, "alpha": {"model": {"units": 8}}}})
    assert list(two["variants"]) == ["zeta", "alpha"]
    assert variants.model_owner(two, "sort", "aed", "alpha") == "zeta"


def test_the_key_catalog_is_current():
    """config/README.md is generated from the schema: regenerate it with
    `python -m attend.config > config/README.md`."""
    expected = cfg.catalog_markdown()
    assert (REPO / "config" / "README.md").read_text() == expected
    for key in ("data.escan.min_out", "execution.threads", "model.attention", "data.translation.corpus.sha256"):
        assert f"| `{key}` |" in expected


def test_task_modules_must_import():
    with pytest.raises(cfg.ConfigError, match="task module 'no_such_module'"):
        cfg.resolve({"task_modules": ["no_such_module"]})
    assert set(REGISTRY) >= {"one_to_one", "reverse", "sort", "escan", "translation"}


def test_a_task_can_run_on_the_first_seeds_only():
    """overrides.<task>.n_seeds: translation on the first seed of whatever `seeds` holds."""
    resolved, _ = cfg.resolve(
        {"seeds": [5, 7, 9], "overrides": {"translation": {"n_seeds": 1}, "sort": {"n_seeds": 2}}}
    )
    assert cfg.task_seeds(resolved, "translation") == [5]
    assert cfg.task_seeds(resolved, "sort") == [5, 7]
    assert cfg.task_seeds(resolved, "reverse") == [5, 7, 9]
    # More than there are, or null: every seed; and n_seeds is not a training setting.
    resolved, _ = cfg.resolve(
        {"seeds": [0, 1], "overrides": {"translation": {"n_seeds": 5}, "sort": {"n_seeds": None}}}
    )
    assert cfg.task_seeds(resolved, "translation") == cfg.task_seeds(resolved, "sort") == [0, 1]
    assert "n_seeds" not in variants.task_settings(resolved, "translation")[1]
    with pytest.raises(cfg.ConfigError, match="n_seeds: 0 is less than the minimum of 1"):
        cfg.resolve({"overrides": {"translation": {"n_seeds": 0}}})


# ---------------------------------------------------------------------------- variants


def test_a_variants_settings_merge_in_the_documented_order():
    """model/train, then variants.<v>.model/train, then overrides.<task>, then
    variants.<v>.overrides.<task>: each later layer wins over the earlier ones."""
    resolved, _ = cfg.resolve(
        {
            "model": {"units": 32},
            "overrides": {"sort": {"model": {"units": 48}, "train": {"max_steps": 800}}},
            "variants": {
                "wide": {
                    "model": {"units": 64, "cell": "lstm"},
                    "train": {"max_steps": 400},
                    "overrides": {"sort": {"train": {"max_steps": 1200}}},
                }
            },
        }
    )
    assert variants.variant_names(resolved) == ["base", "wide"]
    model, train = variants.task_settings(resolved, "one_to_one", "wide")
    assert (model["units"], model["cell"], train["max_steps"]) == (64, "lstm", 400)  # the variant over the defaults
    model, train = variants.task_settings(resolved, "sort", "wide")
    assert (model["units"], model["cell"]) == (48, "lstm")  # overrides.sort over the variant's model
    assert train["max_steps"] == 1200  # the variant's own sort block last
    assert train["batch_size"] == cfg.defaults("train")["batch_size"]
    assert variants.task_settings(resolved, "sort") == variants.task_settings(resolved, "sort", "base")
    model, train = variants.task_settings(resolved, "sort")
    assert (model["units"], model["cell"], train["max_steps"]) == (48, "gru", 800)  # base: no variant layer


def test_a_variant_shares_the_models_its_change_does_not_reach():
    """A model is trained once per distinct setting its architecture reads: dot attention
    leaves VED alone, an LSTM leaves AO alone, AO's map leaves VED and AED alone, heads
    matter only for multihead; the first variant (base first) with equal settings owns it."""
    resolved, _ = cfg.resolve(
        {
            "variants": {
                "dot": {"model": {"attention": "dot"}},
                "lstm": {"model": {"cell": "lstm"}},
                "ao_gru": {"model": {"ao_ff": "gru"}},
                "three_heads": {"model": {"heads": 3}},  # heads without multihead: no change
                "dot_again": {"model": {"attention": "dot"}},
                "ao_only": {"architectures": ["ao"], "model": {"attention": "dot"}},
                "slow": {"train": {"learning_rate": 0.001}},
                "sort_lstm": {"overrides": {"sort": {"model": {"cell": "lstm"}}}},
            }
        }
    )
    owner = {
        (v, a): variants.model_owner(resolved, "one_to_one", a, v)
        for v in variants.variant_names(resolved)
        for a in variants.variant_architectures(resolved, v)
    }
    assert owner == {
        ("base", "ved"): "base",
        ("base", "aed"): "base",
        ("base", "ao"): "base",
        ("dot", "ved"): "base",
        ("dot", "aed"): "dot",
        ("dot", "ao"): "dot",
        ("lstm", "ved"): "lstm",
        ("lstm", "aed"): "lstm",
        ("lstm", "ao"): "base",
        ("ao_gru", "ved"): "base",
        ("ao_gru", "aed"): "base",
        ("ao_gru", "ao"): "ao_gru",
        ("three_heads", "ved"): "base",
        ("three_heads", "aed"): "base",
        ("three_heads", "ao"): "base",
        ("dot_again", "ved"): "base",
        ("dot_again", "aed"): "dot",
        ("dot_again", "ao"): "dot",
        ("ao_only", "ao"): "dot",
        ("slow", "ved"): "slow",
        ("slow", "aed"): "slow",
        ("slow", "ao"): "slow",
        ("sort_lstm", "ved"): "base",
        ("sort_lstm", "aed"): "base",
        ("sort_lstm", "ao"): "base",
    }
    # A per-task override reaches that task alone; its sort AED equals lstm's, trained there.
    assert variants.model_owner(resolved, "sort", "aed", "sort_lstm") == "lstm"
    assert variants.model_owner(resolved, "sort", "ao", "sort_lstm") == "base"
    # What made a model, as its files record it: the owner's name and the digest of the
    # settings its architecture reads, equal wherever the model is shared.
    for (v, a), made_on in owner.items():
        assert variants.model_identity(resolved, "one_to_one", a, made_on) == {
            "variant": made_on,
            "settings_digest": variants.settings_digest(resolved, "one_to_one", a, v),
        }
    digests = {variants.settings_digest(resolved, "one_to_one", "aed", v) for v in ("base", "dot", "lstm", "slow")}
    assert len(digests) == 4, "settings an architecture reads change its digest"
    jax, _ = cfg.resolve({"backend": "jax"})
    assert variants.settings_digest(jax, "sort", "aed") != variants.settings_digest(resolved, "sort", "aed")


def test_variants_default_to_the_configs_tasks_and_architectures():
    resolved, _ = cfg.resolve(
        {
            "tasks": ["one_to_one", "sort", "escan"],
            "variants": {"small": {"tasks": ["escan", "one_to_one"], "architectures": ["ao"]}, "all": {}},
        }
    )
    assert variants.variant_names(resolved) == ["base", "small", "all"]
    assert variants.variant_tasks(resolved, "small") == ["one_to_one", "escan"]  # in the config's order
    assert variants.variant_architectures(resolved, "small") == ["ao"]
    assert variants.variant_tasks(resolved, "all") == variants.variant_tasks(resolved, "base") == resolved["tasks"]
    assert variants.variant_dir("base") == "" and variants.variant_dir("small") == "variants/small/"


@pytest.mark.parametrize(
    "variants, named",
    [
        ({"Wide": {}}, "variants: 'Wide' does not match"),
        ({"a/b": {}}, "variants: 'a/b' does not match"),
        ({"base": {"model": {"units": 64}}}, "variants.base: the base variant is the config itself"),
        (
            {"wide": {"modle": {"units": 64}}},
            "variants.wide: Additional properties are not allowed ('modle' was unexpected)",
        ),
        ({"wide": {"model": {"unitz": 64}}}, "variants.wide.model: Additional properties are not allowed ('unitz'"),
        ({"wide": {"model": {"units": 0}}}, "variants.wide.model.units: 0 is less than the minimum of 1"),
        (
            {"wide": {"train": {"max_steps": 150}}},
            "variants.wide.train: max_steps (150) must be a multiple of eval_every",
        ),
        ({"wide": {"overrides": {"bogus": {}}}}, "variants.wide.overrides: 'bogus' is not one of"),
        ({"wide": {"overrides": {"sort": {"n_seeds": 1}}}}, "variants.wide.overrides.sort: Additional properties"),
        (
            {"wide": {"overrides": {"sort": {"train": {"max_steps": 130}}}}},
            "variants.wide.overrides.sort.train: max_steps (130) must be a multiple",
        ),
        ({"wide": {"tasks": ["translation"]}}, "variants.wide.tasks: ['translation'] are not among the config's tasks"),
        ({"wide": {"architectures": ["transformer"]}}, "variants.wide.architectures.0: 'transformer' is not one of"),
        (
            {"mh": {"model": {"attention": "multihead", "heads": 3}}},
            "variants.mh.model: heads (3) must divide units (128)",
        ),
    ],
)
def test_bad_variant_names_the_key(variants, named):
    with pytest.raises(cfg.ConfigError) as err:
        cfg.resolve({"tasks": ["one_to_one", "reverse", "sort", "escan"], "variants": variants})
    assert named in str(err.value)


def test_the_ablations_config():
    """config/ablations.yaml over config.yaml: seven variants on four tasks; sort keeps its
    step budget in every variant (overrides.sort comes after the variant's train)."""
    resolved, _ = cfg.resolve(variants.merged(load("config.yaml"), load("ablations.yaml")))
    assert variants.variant_names(resolved) == ["base", "dot", "multihead", "lstm", "ao_gru", "units64", "units256"]
    assert resolved["tasks"] == ["one_to_one", "reverse", "sort", "escan"]
    settings = {v: variants.task_settings(resolved, "sort", v) for v in variants.variant_names(resolved)}
    assert all(train["max_steps"] == 8000 for _, train in settings.values())
    assert settings["multihead"][0]["attention"] == "multihead" and settings["multihead"][0]["heads"] == 2
    assert settings["dot"][0]["attention"] == "dot" and settings["lstm"][0]["cell"] == "lstm"
    assert settings["ao_gru"][0]["ao_ff"] == "gru"
    assert [settings[v][0]["units"] for v in ("base", "units64", "units256")] == [128, 64, 256]


def test_the_smoke_config_has_a_small_multihead_variant():
    resolved, _ = cfg.resolve(variants.merged(load("config.yaml"), load("smoke.yaml")))
    assert variants.variant_names(resolved) == ["base", "multihead"]
    model, _ = variants.task_settings(resolved, "one_to_one", "multihead")
    assert model["attention"] == "multihead" and model["units"] // model["heads"] == 8


def test_the_registry_order_does_not_depend_on_what_was_imported_first():
    """Tasks, and so targets, tables and figure panels, keep the built-in order even when a
    caller imported one task module before the others (as a test or a script may)."""
    script = (
        "import attend.tasks.translation, attend.tasks.scan\n"
        "from attend.tasks import load_task_modules\n"
        "print(list(load_task_modules()))"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.strip() == str(["one_to_one", "reverse", "sort", "escan", "translation"])


def test_an_architecture_has_settings_of_its_own():
    """arch_overrides.<arch> comes after model/train and before a variant's and a task's
    settings; the default holds the Transformer's learning rate and nothing for the
    paper's architectures; an unknown architecture is named."""
    resolved, _ = cfg.resolve(
        {
            "architectures": ["ved", "aed", "ao", "tfm"],
            "train": {"max_steps": 900},
            "overrides": {"sort": {"train": {"learning_rate": 0.01}}},
            "variants": {"slow": {"train": {"learning_rate": 0.0001}}},
        }
    )
    default = cfg.defaults("train")["learning_rate"]
    own = resolved["arch_overrides"]["tfm"]["train"]["learning_rate"]
    assert own != default
    lr = lambda task, arch, variant="base": variants.task_settings(resolved, task, variant, arch)[1]["learning_rate"]  # noqa: E731
    assert [lr("one_to_one", a) for a in ("ved", "aed", "ao", "tfm")] == [default] * 3 + [own]
    assert lr("one_to_one", None) == default  # without an architecture: none of theirs
    assert lr("sort", "tfm") == lr("sort", "aed") == 0.01  # a task's setting wins
    assert lr("one_to_one", "tfm", "slow") == 0.0001  # so does a variant's
    assert variants.task_settings(resolved, "one_to_one", "base", "tfm")[1]["max_steps"] == 900
    assert variants.model_owner(resolved, "one_to_one", "tfm", "slow") == "slow"
    # What a config writes merges over the default: one value changed, the others kept.
    heads = cfg.defaults("arch_overrides")["tfm"]["model"]["heads"]
    mine, _ = cfg.resolve({"architectures": ["tfm"], "arch_overrides": {"tfm": {"train": {"learning_rate": 0.002}}}})
    model, train = variants.task_settings(mine, "one_to_one", "base", "tfm")
    assert (model["heads"], train["learning_rate"]) == (heads, 0.002) and heads != cfg.defaults("model")["heads"]
    other, _ = cfg.resolve({"arch_overrides": {"aed": {"train": {"clipnorm": 2.0}}}})
    assert other["arch_overrides"]["tfm"] == cfg.defaults("arch_overrides")["tfm"]
    assert variants.task_settings(other, "one_to_one", "base", "aed")[1]["clipnorm"] == 2.0
    with pytest.raises(cfg.ConfigError, match="arch_overrides: 'transformer' is not one of"):
        cfg.resolve({"arch_overrides": {"transformer": {"train": {"learning_rate": 0.001}}}})
    with pytest.raises(cfg.ConfigError, match=r"arch_overrides.tfm.train: max_steps \(130\) must be a multiple"):
        cfg.resolve({"architectures": ["tfm"], "arch_overrides": {"tfm": {"train": {"max_steps": 130}}}})


def test_an_architecture_runs_on_its_own_tasks():
    """arch_overrides.<arch>.tasks: an architecture on some of the tasks only, in base and in
    every variant (its settings still merge over the default); every task by default. It
    changes no model's settings, so the models it keeps are the same models."""
    grid = {"architectures": ["ved", "aed", "tfm"], "tasks": ["one_to_one", "sort", "translation"]}
    resolved, _ = cfg.resolve(
        {
            **grid,
            "arch_overrides": {"tfm": {"tasks": ["translation", "one_to_one"]}},
            "variants": {"mh": {"model": {"attention": "multihead", "heads": 2}, "tasks": ["one_to_one", "sort"]}},
        }
    )
    assert variants.arch_tasks(resolved, "tfm") == ["one_to_one", "translation"]  # in the config's order
    assert variants.arch_tasks(resolved, "aed") == resolved["tasks"]
    base = variants.variant_models(resolved, "base")
    assert [task for task, arch in base if arch == "tfm"] == ["one_to_one", "translation"]
    assert [task for task, arch in base if arch == "aed"] == resolved["tasks"]
    assert variants.variant_models(resolved, "mh") == [
        ("one_to_one", "ved"),
        ("one_to_one", "aed"),
        ("one_to_one", "tfm"),
        ("sort", "ved"),
        ("sort", "aed"),
    ]
    heads = cfg.defaults("arch_overrides")["tfm"]["model"]["heads"]
    assert variants.task_settings(resolved, "translation", "base", "tfm")[0]["heads"] == heads
    plain, _ = cfg.resolve(grid)
    assert variants.arch_tasks(plain, "tfm") == plain["tasks"] and len(variants.variant_models(plain, "base")) == 9
    assert all(
        variants.settings_digest(resolved, task, arch) == variants.settings_digest(plain, task, arch)
        for task, arch in base
    )
    smoke, _ = cfg.resolve(variants.merged(load("config.yaml"), load("smoke.yaml")))
    assert variants.arch_tasks(smoke, "tfm") == ["one_to_one"], "CI trains the Transformer on one_to_one alone"


@pytest.mark.parametrize(
    "config, named",
    [
        (
            {"arch_overrides": {"tfm": {"tasks": ["translation"]}}},
            "arch_overrides.tfm.tasks: ['translation'] are not among the config's tasks ['one_to_one', 'sort']",
        ),
        ({"arch_overrides": {"tfm": {"tasks": ["bogus"]}}}, "arch_overrides.tfm.tasks.0: 'bogus' is not one of"),
        ({"arch_overrides": {"tfm": {"tasks": []}}}, "arch_overrides.tfm.tasks: [] should be non-empty"),
        (
            {
                "arch_overrides": {"tfm": {"tasks": ["one_to_one"]}},
                "variants": {"late": {"tasks": ["sort"], "architectures": ["tfm"]}},
            },
            "variants.late: runs no model: none of its architectures ['tfm'] runs on its tasks ['sort']",
        ),
    ],
)
def test_bad_architecture_tasks_name_the_key(config, named):
    with pytest.raises(cfg.ConfigError) as err:
        cfg.resolve({"tasks": ["one_to_one", "sort"], "architectures": ["aed", "tfm"], **config})
    assert named in str(err.value)


def test_check_config_names_the_file_and_line_of_bad_yaml(tmp_path, capsys):
    """Snakemake says only "Config file is not valid JSON or YAML", whichever file it is."""
    from attend.config import check_main

    (tmp_path / "good.yaml").write_text("seeds: [0]\n")
    (tmp_path / "bad.yaml").write_text("seeds: [0]\ntrain: {max_steps: 5\n")
    assert check_main([str(tmp_path / "good.yaml"), str(tmp_path / "bad.yaml")]) == 1
    assert f"{tmp_path / 'bad.yaml'}:3:1: not valid YAML" in capsys.readouterr().err
    (tmp_path / "key.yaml").write_text("train: {max_stepz: 5}\n")
    assert check_main([str(tmp_path / "good.yaml"), str(tmp_path / "key.yaml")]) == 1
    assert "train: Additional properties are not allowed ('max_stepz' was unexpected)" in capsys.readouterr().err
    assert check_main([str(tmp_path / "good.yaml")]) == 0
