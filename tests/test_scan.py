"""SCAN from its grammar, and eSCAN's invariants."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from attend.artifacts import DataError
from attend.config import defaults
from attend.tasks.base import encode
from attend.tasks.scan import (
    DICTIONARY,
    PERIOD,
    interpret,
    kept_commands,
    make_escan,
    read_scan_file,
    scan_command_words,
    scan_commands,
)

SCAN_FILE = Path(__file__).resolve().parents[2] / "shared/data/scan/tasks.txt"
SIZES = {"train": 2000, "valid": 300, "test": 300}
WIDE = {
    "words": ["walk", "jump", "turn", "left", "right", "opposite", "around", "thrice", "after"],
    "exclude_together": [["around", "thrice"]],
    "min_out": 10,
    "max_out": 30,
    "max_in": 30,
}

TL, TR, WALK, RUN, JUMP, LOOK = "I_TURN_LEFT", "I_TURN_RIGHT", "I_WALK", "I_RUN", "I_JUMP", "I_LOOK"

# ---------------------------------------------------------------------------- SCAN


def test_scan_matches_reference_file():
    if not SCAN_FILE.exists():
        pytest.skip(f"reference SCAN file not found at {SCAN_FILE} (the shared data folder beside the repo)")
    reference = read_scan_file(SCAN_FILE)
    assert len(reference) == 20910
    assert set(scan_commands()) == set(reference)


def test_scan_count_and_order():
    pairs = scan_commands()
    assert len(pairs) == 20910
    assert len(set(pairs)) == 20910
    assert pairs == scan_commands()  # deterministic order


@pytest.mark.parametrize(
    "command, actions, sources",
    [
        ("walk", [WALK], [0]),
        ("turn left", [TL], [1]),
        ("walk left twice", [TL, WALK, TL, WALK], [1, 0, 1, 0]),
        ("jump opposite right", [TR, TR, JUMP], [2, 2, 0]),
        ("turn opposite left", [TL, TL], [2, 2]),
        ("look around left", [TL, LOOK] * 4, [2, 0] * 4),
        ("turn around right thrice", [TR] * 12, [2] * 12),
        ("run and walk left", [RUN, TL, WALK], [0, 3, 2]),
        ("run twice after jump left", [TL, JUMP, RUN, RUN], [4, 3, 0, 0]),
    ],
)
def test_interpret_with_alignment(command, actions, sources):
    assert interpret(command.split()) == (actions, sources)


@pytest.mark.parametrize(
    "command",
    [
        "",
        "turn",
        "turn twice",
        "left",
        "walk left left",
        "walk twice twice",
        "walk and",
        "walk and run after jump",
        "walk opposite",
        "fly",
    ],
)
def test_interpret_rejects_non_commands(command):
    with pytest.raises(ValueError):
        interpret(command.split())


def test_every_alignment_points_at_a_producing_word():
    for words in scan_command_words():
        actions, sources = interpret(words)
        assert [DICTIONARY[words[i]] for i in sources] == actions


def test_read_scan_file_rejects_malformed(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("IN: walk OUT: I_WALK\nwalk I_WALK\n")
    with pytest.raises(DataError, match=":2:"):
        read_scan_file(path)


# ---------------------------------------------------------------------------- eSCAN


@pytest.fixture(scope="module")
def default_escan():
    return make_escan(defaults("data.escan"), seed=0, sizes=SIZES)


@pytest.fixture(scope="module")
def wide_escan():
    return make_escan({**defaults("data.escan"), **WIDE}, seed=1, sizes=SIZES)


def _commands(src: list[str]) -> list[list[str]]:
    """Split an eSCAN input at its periods (it always ends in one)."""
    assert src[-1] == PERIOD
    cmds, cur = [], []
    for w in src:
        if w == PERIOD:
            cmds.append(cur)
            cur = []
        else:
            cur.append(w)
    return cmds


def _check_invariants(data, words, groups, min_out, max_out, max_in, phrases=()):
    assert data.src_words[-1] == PERIOD and data.tgt_words[-1] == PERIOD
    assert set(data.src_words) <= set(words) | {PERIOD}
    assert all(DICTIONARY[w] == t for w, t in data.dictionary.items())
    for name, split in data.splits.items():
        assert len(split.src) == len(split.tgt) == len(split.align) == SIZES[name]
        for src, tgt, align in zip(split.src, split.tgt, split.align):
            assert min_out <= len(tgt) <= max_out and len(src) <= max_in
            assert set(src) <= set(data.src_words) and set(tgt) <= set(data.tgt_words)
            expected = []
            for cmd in _commands(src):
                assert not any(set(g) <= set(cmd) for g in groups), cmd
                assert not any(cmd[i : i + len(p)] == list(p) for p in phrases for i in range(len(cmd))), cmd
                expected += interpret(cmd)[0] + [PERIOD]
            assert tgt == expected
            assert len(align) == len(tgt)
            assert all(DICTIONARY[src[i]] == t for i, t in zip(align, tgt))


def test_escan_default_invariants(default_escan):
    """The default is the authors' February-2021 eSCAN: run, walk, jump, left, and, twice;
    no command holding the phrase "left twice" (90 base commands); outputs of 10-15 tokens;
    inputs of at most 27."""
    d = default_escan
    _check_invariants(d, ["run", "walk", "jump", "left", "and", "twice"], [], 10, 15, 27, phrases=[["left", "twice"]])
    assert d.src_words == ["and", "jump", "left", "run", "twice", "walk", PERIOD]
    assert d.tgt_words == [JUMP, RUN, TL, WALK, PERIOD]
    assert d.dictionary == {"walk": WALK, "run": RUN, "jump": JUMP, "left": TL, PERIOD: PERIOD}
    assert d.meta["n_commands_kept"] == 90
    # "left" and "twice" still meet, just never as the phrase: "walk left and run twice".
    commands = {tuple(c) for split in d.splits.values() for src in split.src for c in _commands(src)}
    assert any("left" in c and "twice" in c for c in commands)
    # Every kept command is drawn: with 2,000 examples of 2-7 commands, all 90 appear.
    assert len(commands) == 90


def test_escan_paper_era_settings_stay_available():
    """The paper-era alternative (docs/science.md §2): look instead of jump, both words never together, 20-25 tokens."""
    paper_era = {
        "words": ["run", "walk", "look", "left", "and", "twice"],
        "exclude_together": [["left", "twice"]],
        "exclude_phrases": [],
        "min_out": 20,
        "max_out": 25,
        "max_in": 27,
    }
    data = make_escan(paper_era, seed=0, sizes=SIZES)
    _check_invariants(data, paper_era["words"], [["left", "twice"]], 20, 25, 27)
    assert data.meta["n_commands_kept"] == 72  # 9 one-phrase commands + 63 "S and S" without left+twice


def test_escan_other_words_invariants(wide_escan):
    _check_invariants(wide_escan, WIDE["words"], WIDE["exclude_together"], 10, 30, 30)
    assert "turn" in wide_escan.src_words and TR in wide_escan.tgt_words


def test_escan_encodes(default_escan):
    arrays, record = encode(default_escan)
    assert arrays["train_align"].shape == arrays["train_tgt"].shape
    assert record["meta"]["words"] == ["run", "walk", "jump", "left", "and", "twice"]


def test_escan_deterministic_and_seed_dependent(default_escan):
    again = make_escan(defaults("data.escan"), seed=0, sizes=SIZES)
    other = make_escan(defaults("data.escan"), seed=1, sizes=SIZES)
    for name in SIZES:
        assert again.splits[name] == default_escan.splits[name]
        assert other.splits[name].src != default_escan.splits[name].src
    # Each split has its own stream: the test set does not move when train grows.
    bigger = make_escan(defaults("data.escan"), seed=0, sizes={**SIZES, "train": 2500})
    assert bigger.splits["test"] == default_escan.splits["test"]


def test_escan_full_size_gives_every_example_asked_for():
    """At the default split sizes (its speed is measured by bench/bench.py --only data)."""
    data = make_escan(defaults("data.escan"), seed=3, sizes={"train": 20000, "valid": 2000, "test": 2000})
    assert [len(data.splits[s].src) for s in ("train", "valid", "test")] == [20000, 2000, 2000]


@pytest.mark.parametrize(
    "cfg, message",
    [
        ({"words": ["run", "fly"]}, "'fly'"),
        ({"exclude_together": [["left", "thrce"]]}, "'thrce'"),
        ({"words": ["left", "and"]}, "keeps no SCAN command"),
        ({"min_out": 26}, "min_out <= max_out"),
        ({"max_in": 8}, "cannot build any example"),
        ({"words": ["walk"], "min_out": 3, "max_out": 3}, "cannot build any example"),  # only even lengths
    ],
)
def test_escan_rejects_bad_config(cfg, message):
    with pytest.raises(ValueError, match=message):
        make_escan({**defaults("data.escan"), **cfg}, seed=0, sizes=SIZES)


def test_escan_rejects_bad_sizes():
    with pytest.raises(ValueError, match="sizes"):
        make_escan(defaults("data.escan"), seed=0, sizes={"train": 10, "valid": 10})


def test_escan_alignment_is_into_concatenated_input(default_escan):
    split = default_escan.splits["train"]
    for src, tgt, align in zip(split.src[:200], split.tgt[:200], split.align[:200]):
        periods_src = [i for i, w in enumerate(src) if w == PERIOD]
        periods_tgt = [a for a, t in zip(align, tgt) if t == PERIOD]
        assert periods_src == periods_tgt
        assert np.all(np.diff([a for a, t in zip(align, tgt) if t == PERIOD]) > 0)


def test_phrase_exclusion_keeps_the_authors_90_base_commands():
    """The authors' February-2021 eSCAN: run, walk, jump, left, and, twice without any
    command holding the phrase "left twice" keeps 90 commands; dropping every command with
    both words anywhere (the word-group rule) keeps 72."""
    words = ["run", "walk", "jump", "left", "and", "twice"]
    by_phrase = kept_commands(words, [], [["left", "twice"]])
    assert len(by_phrase) == 90 and len(kept_commands(words, [["left", "twice"]])) == 72
    assert ["walk", "left", "and", "run", "twice"] in by_phrase  # both words, not the phrase
    assert not any(c[i : i + 2] == ["left", "twice"] for c in by_phrase for i in range(len(c) - 1))
    data = make_escan(
        {
            **defaults("data.escan"),
            "words": words,
            "exclude_together": [],
            "exclude_phrases": [["left", "twice"]],
            "min_out": 10,
            "max_out": 15,
        },
        seed=0,
        sizes={"train": 300, "valid": 50, "test": 50},
    )
    for src, tgt in zip(data.splits["train"].src, data.splits["train"].tgt):
        assert 10 <= len(tgt) <= 15 and len(src) <= 27 and tgt[-1] == "." and src[-1] == "."
        assert not any(src[i : i + 2] == ["left", "twice"] for i in range(len(src) - 1))
