"""The probe format (attend.probe.KEYS): round trips of every form, the generated document,
and one clear line for each kind of bad probe."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from attend import probe
from attend.analysis.alignment import position_words
from attend.artifacts import DataError, save_npz

REPO = Path(__file__).resolve().parents[1]


def test_probe_round_trips(tmp_path, make_probe):
    arrays = make_probe(n=8, arch="aed")
    probe.save(tmp_path / "probe.npz", arrays)
    back = probe.load(tmp_path / "probe.npz")
    assert set(back) == set(arrays)
    np.testing.assert_array_equal(back["attention"], arrays["attention"])
    assert str(back["arch"]) == "aed" and int(back["format_version"]) == int(arrays["format_version"])


def test_multihead_probe_round_trips(tmp_path):
    from two_heads import two_head_probe

    arrays, _ = two_head_probe()
    probe.save(tmp_path / "p.npz", arrays)
    back = probe.load(tmp_path / "p.npz")
    assert set(back) == set(arrays) and probe.form(back) == "heads"
    assert back["head_attention"].shape == (len(arrays["enc_states"]), 2, 5, 5) and back["head_W_q"].shape == (2, 6, 3)
    np.testing.assert_allclose(back["attention"], back["head_attention"].mean(1))


def test_the_forms(make_probe):
    from two_heads import two_head_probe

    assert probe.form(make_probe(arch="ved")) is None
    assert probe.form(make_probe(arch="aed")) == "single"
    assert probe.form(two_head_probe()[0]) == "heads"


def test_optional_keys_may_be_left_out(tmp_path, make_probe):
    """Only the required keys and one attention form: a probe of a model trained anywhere."""
    arrays = make_probe(n=8, arch="ao")
    for key in ("targets", "predictions", "W_v", "W_c", "arch", "attention_kind"):
        del arrays[key]
    probe.save(tmp_path / "p.npz", arrays)
    assert set(probe.load(tmp_path / "p.npz")) == set(arrays)


def test_truncated_probe_names_the_file(tmp_path, make_probe):
    probe.save(tmp_path / "p.npz", make_probe(n=8, arch="ved"))
    data = (tmp_path / "p.npz").read_bytes()
    (tmp_path / "p.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="p.npz.*truncated or foreign"):
        probe.load(tmp_path / "p.npz")


def test_the_format_document_is_current():
    """docs/probe-format.md is generated from attend.probe.KEYS."""
    document = (REPO / "docs" / "probe-format.md").read_text()
    assert document == probe.format_markdown(), "regenerate it: python -m attend.probe > docs/probe-format.md"
    for key in probe.KEYS:
        assert f"| `{key.name}` |" in document
    printed = subprocess.run([sys.executable, "-m", "attend.probe"], capture_output=True, text=True, check=True)
    assert printed.stdout == document


def test_every_dimension_is_declared_once_and_used():
    """DIMENSIONS names each dimension of KEYS, one meaning each (L: layers, never lengths)."""
    used = {dim for key in probe.KEYS for dim in key.shape}
    assert used == set(probe.DIMENSIONS)
    assert "layers" in probe.DIMENSIONS["L"] and "L" not in probe.DIMENSIONS["T"] + probe.DIMENSIONS["S"]


# ---------------------------------------------------------------------------- assemble


def _raw(arrays: dict) -> dict:
    """The arrays as a framework hands them over: float64 and int64, no format_version,
    no lengths, something other than 0 in the float padding."""
    raw = {k: v for k, v in arrays.items() if k not in ("format_version", "enc_len", "dec_len")}
    for key, value in raw.items():
        if value.dtype.kind in "fi":
            raw[key] = value.astype(np.float64 if value.dtype.kind == "f" else np.int64)
    enc_pad = ~probe.valid_positions(arrays["enc_len"], arrays["enc_tokens"].shape[1])
    raw["enc_states"][enc_pad] = 7.0
    raw["dec_states"][~probe.valid_positions(arrays["dec_len"], arrays["dec_inputs"].shape[1])] = -7.0
    return raw


def test_assemble_versions_casts_measures_and_zeroes_the_padding(make_probe):
    arrays = make_probe(n=8, s=6, t=5, units=4, arch="aed")
    raw = _raw(arrays)
    raw["align"] = np.where(arrays["targets"] > 0, 1, -1)  # -1 at padding: kept as given
    raw["identity"] = {"seed": 0, "arch": "aed"}
    raw["W_v"] = raw["W_c"] = None  # left out
    made = probe.assemble(raw, "here")
    assert list(made) == [k.name for k in probe.KEYS if k.name in made]
    assert "W_v" not in made and "W_c" not in made and int(made["format_version"]) == probe.FORMAT_VERSION
    for name, value in made.items():
        assert value.dtype == np.dtype(probe.DTYPES[probe.SPEC[name].kind]) or value.dtype.kind == "U", name
    np.testing.assert_array_equal(made["enc_len"], arrays["enc_len"])  # counted from the ids
    np.testing.assert_array_equal(made["dec_len"], arrays["dec_len"])
    for name in ("enc_states", "dec_states", "attention"):
        np.testing.assert_array_equal(made[name], arrays[name], err_msg=name)  # the padding is 0 again
    np.testing.assert_array_equal(made["align"], raw["align"])
    assert str(made["identity"]) == '{"arch": "aed", "seed": 0}'


def test_assemble_reads_valid_positions_from_the_lengths_given(make_probe):
    arrays = make_probe(n=8, s=6, t=5, units=4, arch="aed")
    raw = {**_raw(arrays), "enc_len": arrays["enc_len"], "dec_len": arrays["dec_len"]}
    ids = ("enc_tokens", "dec_inputs", "targets", "predictions")
    for name in ids:  # ids past the lengths (not counted: the lengths are given), <pad> after
        raw[name] = np.where(raw[name] == 0, 3, raw[name])
    made = probe.assemble(raw)
    for name in (*ids, "enc_len", "dec_len", "enc_states", "dec_states"):
        np.testing.assert_array_equal(made[name], arrays[name], err_msg=name)


def test_assemble_takes_the_whole_models_attention_as_the_mean_of_its_parts():
    from two_heads import two_head_probe, two_layer_probe

    heads = two_head_probe()[0]
    made = probe.assemble({k: v for k, v in heads.items() if k != "attention"})
    np.testing.assert_array_equal(made["attention"], heads["head_attention"].mean(1))
    layers = two_layer_probe()[0]
    made = probe.assemble({k: v for k, v in layers.items() if k != "attention"})
    np.testing.assert_allclose(made["attention"], layers["layer_attention"].mean((1, 2)), rtol=1e-6)
    given = probe.assemble(layers)  # a weighting of the caller's own is kept
    np.testing.assert_array_equal(given["attention"], layers["attention"])


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda a: a.update(W_Q=a["W_q"]), r"^there: 'W_Q' is not a key of the probe format"),
        (lambda a: a.update(enc_tokens=a["enc_tokens"] + 0.5), r"^there: 'enc_tokens' holds float64, expected int"),
        (lambda a: a.update(src_vocab=np.arange(9)), r"^there: 'src_vocab' holds int64, expected str"),
        (lambda a: a["dec_states"].__setitem__((0, 0, 0), np.nan), r"^there: 'dec_states' holds NaN"),
        (lambda a: a.update(enc_states=a["enc_states"][:, :4]), r"^there: 'enc_tokens' has shape \(8, 6\): its S"),
    ],
    ids=["unknown key", "float ids", "a vocabulary of numbers", "NaN", "a dimension that disagrees"],
)
def test_assemble_refuses_what_it_cannot_make_a_probe_of_in_one_line(make_probe, edit, message):
    raw = _raw(make_probe(n=8, s=6, t=5, units=4, arch="aed"))
    edit(raw)
    with pytest.raises(DataError, match=message) as caught:
        probe.assemble(raw, "there")
    assert "\n" not in str(caught.value)


def _single(make_probe):
    return make_probe(n=8, s=6, t=5, units=4, arch="aed")


def _multihead(make_probe):
    from two_heads import two_head_probe

    return two_head_probe()[0]


def _gold(make_probe):
    """A format-2 probe with gold links: every sequence's first target word to its first
    source word (sure), and its last to its last (possible)."""
    arrays = _single(make_probe)
    n = len(arrays["enc_len"])
    first = np.stack([np.arange(n), np.zeros(n, int), np.zeros(n, int)], 1)
    last = np.stack([np.arange(n), arrays["dec_len"] - 2, arrays["enc_len"] - 2], 1)
    links = np.unique(np.concatenate([first, last]), axis=0).astype(np.int32)
    arrays.update(format_version=np.array(2, np.int32), gold_links=links, gold_sure=(links[:, 1] == 0).astype(np.int32))
    return arrays


def test_a_format_1_probe_still_reads(tmp_path, make_probe):
    """Format 2 added the optional gold group; a probe written as format 1 reads as it was."""
    for name, arrays in (("single", _single(make_probe)), ("heads", _multihead(make_probe))):
        arrays["format_version"] = np.array(1, np.int32)  # as a probe written before format 2
        probe.save(tmp_path / f"{name}.npz", arrays)
        back = probe.load(tmp_path / f"{name}.npz")
        assert set(back) == set(arrays) and int(back["format_version"]) == 1


def test_a_probe_with_gold_links_round_trips(tmp_path, make_probe):
    arrays = _gold(make_probe)
    probe.save(tmp_path / "gold.npz", arrays)
    back = probe.load(tmp_path / "gold.npz")
    assert int(back["format_version"]) == 2 and set(back) == set(arrays)
    np.testing.assert_array_equal(back["gold_links"], arrays["gold_links"])
    np.testing.assert_array_equal(back["gold_sure"], arrays["gold_sure"])


def _words(make_probe):
    """A format-2 probe with gold links and word maps: source positions 0 and 1 of every
    sequence are the two subwords of word 0, every other position before </s> a word; the
    target side one position one word."""
    arrays = _gold(make_probe)
    enc_word = position_words(arrays["enc_len"], arrays["enc_tokens"].shape[1])
    enc_word = np.where(enc_word > 0, enc_word - 1, enc_word)  # 0 0 1 2 ... -1
    dec_word = position_words(arrays["dec_len"], arrays["dec_inputs"].shape[1])
    arrays["gold_links"] = arrays["gold_links"].copy()
    arrays["gold_links"][:, 2] = np.maximum(arrays["gold_links"][:, 2] - 1, 0)  # on the maps' words
    arrays["gold_links"] = np.unique(arrays["gold_links"], axis=0)
    arrays["gold_sure"] = (arrays["gold_links"][:, 1] == 0).astype(np.int32)
    arrays.update(enc_word=enc_word.astype(np.int32), dec_word=dec_word.astype(np.int32))
    return arrays


def test_a_probe_of_subwords_round_trips(tmp_path, make_probe):
    arrays = _words(make_probe)
    probe.save(tmp_path / "words.npz", arrays)
    back = probe.load(tmp_path / "words.npz")
    assert set(back) == set(arrays) and {"enc_word", "dec_word"} <= set(probe.group_keys("words"))
    np.testing.assert_array_equal(back["enc_word"], arrays["enc_word"])


def _gold_row(row, value):
    """Overwrite one gold link; ``value`` may read the probe."""

    def edit(arrays):
        arrays["gold_links"] = arrays["gold_links"].copy()
        arrays["gold_links"][row] = value(arrays) if callable(value) else value

    return edit


def _set(key, value):
    def edit(arrays):
        arrays[key] = value(arrays) if callable(value) else value

    return edit


def _drop(*keys):
    def edit(arrays):
        for key in keys:
            del arrays[key]

    return edit


def _poke(key, index, value):
    def edit(arrays):
        arrays[key] = arrays[key].copy()
        arrays[key][index] = value

    return edit


def _beyond(arrays):
    """Sequence 0 ends at source position 3, but its first step puts half its weight on 5."""
    arrays["enc_len"][0] = 3
    arrays["attention"] = arrays["attention"].copy()
    arrays["attention"][0, 0] = 0
    arrays["attention"][0, 0, [0, 5]] = 0.5


def _layered(make_probe):
    from two_heads import two_layer_probe

    return two_layer_probe()[0]


def _none_of(key, axis):
    """Keep zero entries of ``axis`` of every array with that dimension (the probe's
    declared count set to match)."""

    def edit(arrays):
        dim = {"N": "N", "heads": "H", "layers": "L"}[key]
        for name, value in list(arrays.items()):
            spec = probe.SPEC.get(name)
            if spec is not None and dim in spec.shape:
                arrays[name] = np.take(value, [], axis=spec.shape.index(dim))
        if key in arrays:
            arrays[key] = np.array(0, np.int32)

    return edit


def _scaled(key, factor):
    return _set(key, lambda a: (a[key] * factor).astype(a[key].dtype))


def _renamed(vocab, index, name):
    def edit(arrays):
        arrays[vocab] = arrays[vocab].copy()
        arrays[vocab][index] = name

    return edit


def _attention_of_head(head):
    """The model's attention replaced by one head's weights: still weights, not the mean."""

    def edit(arrays):
        arrays["attention"] = arrays["head_attention"][:, head].copy()

    return edit


def _shifted_weights(key):
    """Weights moved one position along the source (and renormalised): rows still sum to 1
    inside the source, but are not the softmax of the recorded scores."""

    def edit(arrays):
        a = arrays[key]
        rolled = np.roll(a, 1, axis=-1) * (a > 0)
        sums = rolled.sum(-1, keepdims=True)
        arrays[key] = np.where(sums > 0, rolled / np.where(sums > 0, sums, 1), a).astype(a.dtype)
        if key != "attention":
            axes = tuple(range(1, a.ndim - 2))
            arrays["attention"] = arrays[key].mean(axes).astype(a.dtype)

    return edit


# (what is wrong, the probe it is done to, the edit, the one line that must name it)
BAD = [
    ("no sequences", _single, _none_of("N", 0), r"holds no sequences \(N = 0\)"),
    ("no heads", _multihead, _none_of("heads", 1), r"holds no heads \(H = 0\)"),
    ("no layers", _layered, _none_of("layers", 1), r"holds no layers \(L = 0\)"),
    (
        "an alignment beyond the source",
        _single,
        _set("align", lambda a: np.full(a["targets"].shape, 999, np.int32)),
        r"'align' must lie in -1\.\.5 .*found 999\.\.999",
    ),
    ("a word named twice", _single, _renamed("tgt_vocab", 4, "O_0"), r"'tgt_vocab' names \['O_0'\] more than once"),
    (
        "attention that is not the softmax of its scores",
        _single,
        _shifted_weights("attention"),
        r"'attention' is not the softmax of its scores .*off by",
    ),
    (
        "a head's weights that are not the softmax of its scores",
        _multihead,
        _shifted_weights("head_attention"),
        r"'head_attention\[:, 0\]' is not the softmax of its scores",
    ),
    (
        "a layer's weights that are not the softmax of its scores",
        _layered,
        _shifted_weights("layer_attention"),
        r"'layer_attention\[:, 0, 0\]' is not the softmax of its scores",
    ),
    (
        "attention that is not the mean of its heads",
        _multihead,
        _attention_of_head(0),
        r"'attention' is not the uniform mean of its 2 units' weights \(heads form\)",
    ),
    (
        "states scaled after the attention was recorded",
        _single,
        _scaled("dec_states", 1e3),
        r"'attention' is not the softmax of its scores",
    ),
    ("a missing required key", _single, _drop("enc_len"), r"lacks \['enc_len'\]"),
    ("no format_version", _single, _drop("format_version"), r"lacks 'format_version': not a probe of this format"),
    (
        "a future format_version",
        _single,
        _set("format_version", np.array(probe.FORMAT_VERSION + 1, np.int32)),
        rf"format_version {probe.FORMAT_VERSION + 1} is newer than this attend reads \({probe.FORMAT_VERSION}\): "
        "upgrade attend",
    ),
    (
        "a wrong rank",
        _single,
        _set("enc_states", lambda a: a["enc_states"][:, :, 0]),
        r"'enc_states' has shape \(8, 6\), expected 3 dimensions \(N, S, n_e\)",
    ),
    (
        "tokens that are not integers",
        _single,
        _set("enc_tokens", lambda a: a["enc_tokens"].astype(np.float32)),
        r"'enc_tokens' holds float32, expected int values",
    ),
    ("lengths beyond the arrays", _single, _poke("enc_len", 0, 7), r"'enc_len' must lie in 1\.\.6 .*found \d+\.\.7"),
    ("NaN states", _single, _poke("dec_states", (3, 2, 1), np.nan), r"'dec_states' holds NaN or infinite values"),
    (
        "a vocabulary shorter than the largest token id",
        _single,
        _set("src_vocab", lambda a: a["src_vocab"][:5]),
        r"'enc_tokens' holds ids 0\.\.\d+, but 'src_vocab' has only 5 tokens",
    ),
    (
        "a vocabulary without the special tokens",
        _single,
        _set("tgt_vocab", lambda a: a["tgt_vocab"][::-1]),
        r"'tgt_vocab' must start with \['<pad>', '</s>', '<s>'\]",
    ),
    (
        "heads that disagree across keys",
        _multihead,
        _set("heads", np.array(3, np.int32)),
        r"'heads' says 3, but the per-head arrays hold 2",
    ),
    (
        "a dimension that disagrees across keys",
        _single,
        _set("W_k", lambda a: a["W_k"][:3]),
        r"'W_k' has shape \(3, 4\): its n_e .* is 3, but other keys make it 4",
    ),
    (
        "attention without its query and key matrices",
        _single,
        _drop("W_q"),
        r"lacks \['W_q'\] \(a probe with attention in the 'single' form needs \['W_q', 'W_k'\]\)",
    ),
    (
        "query and key matrices without attention",
        _single,
        _drop("attention"),
        r"has query and key matrices but no 'attention'",
    ),
    (
        "attention rows that are not weights",
        _single,
        _set("attention", lambda a: a["attention"] * 2),
        r"'attention' rows must be weights summing to 1",
    ),
    (
        "attention beyond the source",
        _single,
        lambda a: _beyond(a),
        r"'attention' puts weight 0\.5 beyond a sequence's enc_len",
    ),
    (
        "half of an optional group",
        _single,
        _drop("predictions"),
        r"has \['targets'\] but not \['predictions'\]: these go together",
    ),
    ("an unknown key", _single, _set("W_Q", lambda a: a["W_q"]), r"unknown keys \['W_Q'\]"),
    ("a scale that is not positive", _single, _set("scale", np.float32(-1)), r"'scale' must be positive"),
    (
        "gold links in a format-1 probe",
        _gold,
        _set("format_version", np.array(1, np.int32)),
        r"has gold links, which format 2 introduced, but says format_version 1",
    ),
    ("gold links without sure", _gold, _drop("gold_sure"), r"has \['gold_links'\] but not \['gold_sure'\]"),
    (
        "a gold link of two indices",
        _gold,
        _set("gold_links", lambda a: a["gold_links"][:, :2]),
        r"'gold_links' has shape \(\d+, 2\): each link is 3 indices",
    ),
    (
        "a gold link on the source </s>",
        _gold,
        _gold_row(0, lambda a: [0, 0, a["enc_len"][0] - 1]),
        r"'gold_links' row 0 links source word \d+ of sequence 0, which has \d+ source words before its </s>",
    ),
    (
        "a gold link past the target",
        _gold,
        _gold_row(1, lambda a: [0, a["dec_len"][0], 0]),
        r"'gold_links' row 1 links target word \d+ of sequence 0",
    ),
    (
        "a gold link of a sequence the probe lacks",
        _gold,
        _gold_row(0, [8, 0, 0]),
        r"'gold_links' names sequences \d+\.\.8, but the probe holds 8",
    ),
    ("a gold link given twice", _gold, _gold_row(1, [0, 0, 0]), r"'gold_links' gives a link more than once"),
    (
        "a gold link neither sure nor possible",
        _gold,
        _poke("gold_sure", 0, 2),
        r"'gold_sure' must hold 0 \(possible\) or 1 \(sure\), found \[2\]",
    ),
    (
        "word maps without gold links",
        _words,
        _drop("gold_links", "gold_sure"),
        r"has 'enc_word' and 'dec_word' but no gold links",
    ),
    ("half of the word maps", _words, _drop("dec_word"), r"has \['enc_word'\] but not \['dec_word'\]"),
    (
        "words numbered out of order",
        _words,
        lambda a: _poke("dec_word", (int(np.argmax(a["dec_len"])), 0), 1)(a),
        r"'dec_word' row \d+ numbers its words \[1, 1, .*: the words of a sequence are 0, 1, 2, \.\.\. in order",
    ),
    (
        "a word past the sequence's length",
        _words,
        lambda a: _poke("enc_word", (int(np.argmin(a["enc_len"])), int(a["enc_len"].min())), 0)(a),
        r"'enc_word' must hold word indices from 0, or -1 \(special tokens, and every position past the length\)",
    ),
    (
        "a gold link past the words of the map",
        _words,
        _gold_row(0, lambda a: [0, 0, a["enc_len"][0] - 2]),
        r"'gold_links' row 0 links source word \d+ of sequence 0, which has \d+ source words in 'enc_word'",
    ),
]


@pytest.mark.parametrize("what, make, edit, message", BAD, ids=[b[0] for b in BAD])
def test_a_bad_probe_is_refused_in_one_line_naming_the_key(tmp_path, make_probe, what, make, edit, message):
    arrays = make(make_probe)
    arrays["enc_len"] = np.minimum(arrays["enc_len"], arrays["enc_states"].shape[1]).astype(np.int32)
    edit(arrays)
    save_npz(tmp_path / "p.npz", arrays)  # written as is: probe.save would refuse it
    with pytest.raises(DataError) as caught:
        probe.load(tmp_path / "p.npz")
    text = str(caught.value)
    assert "\n" not in text and text.startswith(str(tmp_path / "p.npz")), text
    assert __import__("re").search(message, text), text
    with pytest.raises(DataError):
        probe.save(tmp_path / "again.npz", arrays)  # and nobody writes one
    assert not (tmp_path / "again.npz").exists()


def test_a_member_declaring_an_absurd_shape_is_refused_before_it_is_read(tmp_path, make_probe, monkeypatch):
    """A few MB of compressed zeros declaring a 2.5 GB array: refused from the headers, and
    nothing read (np.load's member reader is never called)."""
    import zipfile

    arrays = make_probe(n=24)
    del arrays["enc_states"]
    save_npz(tmp_path / "p.npz", arrays)
    big = np.lib.format.header_data_from_array_1_0(np.zeros((1,), np.float32))
    big["shape"] = (24, 12, 2_000_000)  # 2.3 GB of float32, n_e disagreeing with W_k
    with zipfile.ZipFile(tmp_path / "p.npz", "a") as archive, archive.open("enc_states.npy", "w") as fh:
        np.lib.format.write_array_header_1_0(fh, big)
    monkeypatch.setattr(np.lib.npyio.NpzFile, "__getitem__", lambda *a: pytest.fail("an array was read"))
    with pytest.raises(
        DataError, match=r"'W_k' has shape \(16, 16\): its n_e .* is 16, but other keys make it 2000000"
    ):
        probe.load(tmp_path / "p.npz")


def test_arrays_larger_than_the_memory_available_are_refused_up_front(tmp_path, make_probe, monkeypatch):
    save_npz(tmp_path / "p.npz", make_probe(n=24))
    monkeypatch.setattr(probe, "available_memory", lambda: 1000)
    with pytest.raises(DataError, match="its arrays declare .* GiB, more than the 0.0 GiB of memory available"):
        probe.load(tmp_path / "p.npz")
