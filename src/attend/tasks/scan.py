"""SCAN (Lake & Baroni 2018) from its grammar, and the eSCAN task built on it.

SCAN's grammar::

    C -> S and S | S after S | S
    S -> V twice | V thrice | V
    V -> D[1] opposite D[2] | D[1] around D[2] | D | U
    D -> U left | U right | turn left | turn right
    U -> walk | look | run | jump

gives 20,910 commands. :func:`interpret` maps a command to its actions and, for each
action, the index of the word that produced it (the verb for I_WALK etc., the direction
word for a turn). eSCAN (docs/science.md §2) concatenates random commands from a word
subset, each followed by a period, into examples whose output has 10-15 tokens (the
authors' February-2021 settings; the paper-era 20-25 is a documented alternative).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..artifacts import SPLITS, DataError
from . import Task, register
from .base import Split, TaskData

VERBS = ("walk", "look", "run", "jump")  # U
DIRECTIONS = ("left", "right")
ACTION = {"walk": "I_WALK", "look": "I_LOOK", "run": "I_RUN", "jump": "I_JUMP"}
TURN = {"left": "I_TURN_LEFT", "right": "I_TURN_RIGHT"}
REPEAT = {"twice": 2, "thrice": 3}
VOCABULARY = frozenset(VERBS + DIRECTIONS + ("turn", "opposite", "around", "twice", "thrice", "and", "after"))
PERIOD = "."
# Source word -> the target word it emits (eSCAN's dictionary).
DICTIONARY = {**ACTION, **TURN, PERIOD: PERIOD}

Actions = tuple[list[str], list[int]]  # action tokens, source index of each

# ---------------------------------------------------------------------------- grammar


def _v_phrases() -> list[list[str]]:
    """Every V, in grammar order."""
    d = [[u, x] for u in VERBS for x in DIRECTIONS] + [["turn", x] for x in DIRECTIONS]
    opposite = [[w, "opposite", x] for w, x in d]
    around = [[w, "around", x] for w, x in d]
    return opposite + around + d + [[u] for u in VERBS]


def _s_phrases() -> list[list[str]]:
    """Every S: each V alone, twice and thrice."""
    return [v + rep for v in _v_phrases() for rep in ([], ["twice"], ["thrice"])]


def scan_command_words() -> list[list[str]]:
    """Every SCAN command as a word list, in a fixed grammar order."""
    s = _s_phrases()
    pairs = [a + [conj] + b for conj in ("and", "after") for a in s for b in s]
    return s + pairs


def scan_commands() -> list[tuple[str, str]]:
    """All 20,910 (command, actions) pairs, in a fixed order."""
    return [(" ".join(w), " ".join(interpret(w)[0])) for w in scan_command_words()]


# ---------------------------------------------------------------------------- interpretation


def _interpret_v(words: list[str], start: int) -> Actions:
    """A V phrase (words[start:] already cut to the phrase)."""
    verb, rest = words[0], words[1:]
    if verb not in VERBS and verb != "turn":
        raise ValueError(f"not a SCAN command: expected a verb or 'turn', got {verb!r}")
    if not rest:
        if verb == "turn":
            raise ValueError("not a SCAN command: 'turn' needs a direction")
        return [ACTION[verb]], [start]
    modifier, direction = (rest[0], rest[1]) if len(rest) == 2 else (None, rest[0])
    if len(rest) > 2 or direction not in DIRECTIONS or modifier not in (None, "opposite", "around"):
        raise ValueError(f"not a SCAN phrase: {' '.join(words)!r}")
    d_pos = start + len(words) - 1  # the direction word
    # One "D": a turn, then the verb's action (none for "turn").
    step = ([TURN[direction]], [d_pos])
    if verb != "turn":
        step = (step[0] + [ACTION[verb]], step[1] + [start])
    if modifier is None:
        return step
    if modifier == "opposite":  # turn twice, then act (the verb acts once)
        return [TURN[direction]] + step[0], [d_pos] + step[1]
    return step[0] * 4, step[1] * 4  # around: four times (turn, act)


def _interpret_s(words: list[str], start: int) -> Actions:
    if not words:
        raise ValueError("not a SCAN command: empty phrase")
    times = REPEAT.get(words[-1], 1)
    v = words[:-1] if times > 1 else words
    if not v:
        raise ValueError(f"not a SCAN phrase: {' '.join(words)!r}")
    actions, src = _interpret_v(v, start)
    return actions * times, src * times


def interpret(words: list[str]) -> Actions:
    """A SCAN command -> (actions, index into ``words`` of the word behind each action).

    An action's source is its verb; a turn's source is its direction word ("left" in
    "turn left"). Repeated copies keep their source. Raises ValueError for non-commands.
    """
    words = list(words)
    for conj in ("and", "after"):
        if conj in words:
            k = words.index(conj)
            a, b = _interpret_s(words[:k], 0), _interpret_s(words[k + 1 :], k + 1)
            first, second = (a, b) if conj == "and" else (b, a)  # "x1 after x2" -> x2 x1
            return first[0] + second[0], first[1] + second[1]
    return _interpret_s(words, 0)


def read_scan_file(path: str | Path) -> list[tuple[str, str]]:
    """Read a SCAN file of lines ``IN: <command> OUT: <actions>``."""
    pairs = []
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip():
            continue
        head, sep, out = line.partition(" OUT: ")
        if not sep or not head.startswith("IN: "):
            raise DataError(f"{path}:{n}: expected 'IN: <command> OUT: <actions>', got {line[:80]!r}")
        pairs.append((" ".join(head[4:].split()), " ".join(out.split())))
    return pairs


# ---------------------------------------------------------------------------- eSCAN


def check(cfg: dict, sizes: dict | None = None) -> list[str]:
    """What the schema cannot say about an eSCAN config: words SCAN knows, an output window
    in order, and at least one example that fits it (before any job runs)."""
    errors = [
        f"data.escan: word {word!r} is not in SCAN's vocabulary {sorted(VOCABULARY)}"
        for word in dict.fromkeys(
            list(cfg["words"]) + [w for group in cfg["exclude_together"] + cfg["exclude_phrases"] for w in group]
        )
        if word not in VOCABULARY
    ]
    if cfg["min_out"] > cfg["max_out"]:
        errors.append(f"data.escan: needs min_out <= max_out, got min_out={cfg['min_out']}, max_out={cfg['max_out']}")
    if errors:
        return errors
    cmds = kept_commands(cfg["words"], cfg["exclude_together"], cfg["exclude_phrases"])
    if not cmds:
        return [
            f"data.escan: keeps no SCAN command with words {cfg['words']} after excluding "
            f"{cfg['exclude_together']} and the phrases {cfg['exclude_phrases']}"
        ]
    try:
        _check_reachable([interpret(cmd) for cmd in cmds], [len(cmd) for cmd in cmds], cfg)
    except ValueError as err:
        return [f"data.escan: {err}"]
    return []


def _holds_phrase(cmd: list[str], phrase: list[str]) -> bool:
    n = len(phrase)
    return any(cmd[i : i + n] == phrase for i in range(len(cmd) - n + 1))


def kept_commands(
    words: list[str], exclude_together: list[list[str]], exclude_phrases: list[list[str]] = ()
) -> list[list[str]]:
    """SCAN commands using only ``words``, minus those holding every word of an excluded
    group anywhere, and those holding an excluded phrase (consecutive words)."""
    allowed = set(words)
    kept = []
    for cmd in scan_command_words():
        present = set(cmd)
        if (
            present <= allowed
            and not any(set(g) <= present for g in exclude_together)
            and not any(_holds_phrase(cmd, list(ph)) for ph in exclude_phrases)
        ):
            kept.append(cmd)
    return kept


def _min_input_by_output(pieces: list[Actions], src_lens: list[int], min_out: int) -> list[float]:
    """For each output length below min_out, the shortest input that reaches it (inf: never)."""
    best = [np.inf] * min_out
    best[0] = 0
    for out in range(min_out):
        for (acts, _), n_in in zip(pieces, src_lens):
            nxt = out + len(acts) + 1
            if nxt < min_out and best[out] + n_in + 1 < best[nxt]:
                best[nxt] = best[out] + n_in + 1
    return best


def _check_reachable(pieces: list[Actions], src_lens: list[int], c: dict) -> None:
    """Raise unless some sequence of commands lands in the output window with a short enough input."""
    best = _min_input_by_output(pieces, src_lens, c["min_out"])
    for out, n_in in enumerate(best):
        for (acts, _), m in zip(pieces, src_lens):
            end = out + len(acts) + 1
            if c["min_out"] <= end <= c["max_out"] and n_in + m + 1 <= c["max_in"]:
                return
    raise ValueError(
        f"eSCAN cannot build any example: no concatenation of the kept commands reaches an output "
        f"length in [{c['min_out']}, {c['max_out']}] with at most {c['max_in']} input tokens"
    )


def _one_example(
    rng: np.random.Generator,
    cmds: list[list[str]],
    pieces: list[Actions],
    c: dict,
    max_steps: int,
    max_attempts: int = 10_000,
) -> tuple[list[str], list[str], list[int]]:
    """Concatenate random commands until the output reaches the window; retry on overshoot."""
    for _ in range(max_attempts):
        src: list[str] = []
        tgt: list[str] = []
        align: list[int] = []
        for k in rng.integers(len(cmds), size=max_steps):
            acts, rel = pieces[k]
            offset = len(src)
            src += cmds[k] + [PERIOD]
            tgt += acts + [PERIOD]
            align += [offset + i for i in rel] + [len(src) - 1]
            if len(tgt) >= c["min_out"]:
                break
        if len(tgt) <= c["max_out"] and len(src) <= c["max_in"]:
            return src, tgt, align
    raise ValueError(
        f"eSCAN: {max_attempts} attempts in a row missed the window [{c['min_out']}, {c['max_out']}] "
        f"with at most {c['max_in']} input tokens; widen the window or raise max_in"
    )


def make_escan(cfg: dict, seed: int, sizes: dict[str, int]) -> TaskData:
    """eSCAN: random concatenations of kept SCAN commands, each ended by a period in both sequences."""
    errors = check(cfg)
    if errors:
        raise ValueError("; ".join(errors))
    c = cfg
    if set(sizes) != set(SPLITS) or any(int(n) < 1 for n in sizes.values()):
        raise ValueError(f"eSCAN sizes need positive counts for exactly {list(SPLITS)}, got {sizes}")
    cmds = kept_commands(c["words"], c["exclude_together"], c["exclude_phrases"])
    pieces = [interpret(cmd) for cmd in cmds]
    # Every command emits >= 1 action + a period, so this many always reaches min_out.
    max_steps = (c["min_out"] + 1) // 2 + 1

    # One independent stream per split: a split's examples do not depend on other splits' sizes.
    streams = np.random.SeedSequence(seed).spawn(len(SPLITS))
    splits = {}
    for name, stream in zip(SPLITS, streams):
        rng = np.random.default_rng(stream)
        rows = [_one_example(rng, cmds, pieces, c, max_steps) for _ in range(int(sizes[name]))]
        splits[name] = Split(src=[r[0] for r in rows], tgt=[r[1] for r in rows], align=[r[2] for r in rows])

    src_words = sorted({w for cmd in cmds for w in cmd}) + [PERIOD]
    tgt_words = sorted({a for acts, _ in pieces for a in acts}) + [PERIOD]
    dictionary = {w: t for w, t in DICTIONARY.items() if w in src_words}
    meta = {"n_commands_kept": len(cmds), "words": list(c["words"])}
    return TaskData(src_words=src_words, tgt_words=tgt_words, splits=splits, dictionary=dictionary, meta=meta)


SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "description": "(choice) eSCAN: random SCAN commands from a word subset, each followed by a period, "
    "concatenated until the output fills a window",
    "properties": {
        "words": {
            "type": "array",
            "minItems": 1,
            "items": {"type": "string"},
            "default": ["run", "walk", "jump", "left", "and", "twice"],
            "description": "the SCAN words a kept command may use (the authors' February-2021 subset)",
        },
        "exclude_together": {
            "type": "array",
            "items": {"type": "array", "items": {"type": "string"}},
            "default": [],
            "description": "drop every command that holds all the words of one group, anywhere "
            "(the paper-era setting dropped [left, twice])",
        },
        "exclude_phrases": {
            "type": "array",
            "items": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "default": [["left", "twice"]],
            "description": "drop every command that holds one of these phrases (consecutive words); "
            "the authors' February-2021 setting drops [left, twice], leaving 90 "
            "base phrases",
        },
        "min_out": {
            "type": "integer",
            "minimum": 1,
            "default": 10,
            "description": "shortest output, in tokens (periods included)",
        },
        "max_out": {
            "type": "integer",
            "minimum": 1,
            "default": 15,
            "description": "longest output, in tokens (periods included)",
        },
        "max_in": {
            "type": "integer",
            "minimum": 1,
            "default": 27,
            "description": "longest input, in tokens; longer concatenations are drawn again",
        },
    },
}

register(
    Task(
        name="escan",
        label="eSCAN",
        family="mixed",
        schema=SCHEMA,
        color="#e7298a",
        marker="D",
        generate=lambda cfg, seed, sizes, corpus=None: make_escan(cfg, seed, sizes),
        check=lambda cfg, sizes: check(cfg),
        alignment=True,
        dictionary=True,
    )
)
