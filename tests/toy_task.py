"""A sixth task, declared the way a user declares a task of their own: this module, named
in the config's ``task_modules``, plus the task's block under ``data``. It is one_to_one
with another dictionary: I_k translates to O_(k+1 mod n)."""

from attend.tasks import Task, register
from attend.tasks.synthetic import make_synthetic

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "description": "one_to_one with the dictionary I_k -> O_(k+1 mod n)",
    "properties": {
        "vocab_size": {"type": "integer", "minimum": 2, "default": 6, "description": "input words"},
        "min_len": {"type": "integer", "minimum": 1, "default": 4, "description": "shortest input"},
        "max_len": {"type": "integer", "minimum": 1, "default": 8, "description": "longest input"},
    },
}


def shifted(cfg, seed, sizes, corpus=None):
    data = make_synthetic("one_to_one", cfg, seed, sizes)
    n = len(data.tgt_words)
    shift = {word: data.tgt_words[(k + 1) % n] for k, word in enumerate(data.tgt_words)}
    for split in data.splits.values():
        split.tgt = [[shift[w] for w in seq] for seq in split.tgt]
    data.dictionary = {src: shift[tgt] for src, tgt in data.dictionary.items()}
    return data


TOY = register(
    Task(
        name="toy",
        label="toy (shifted one-to-one)",
        family="temporal",
        schema=SCHEMA,
        color="#a6761d",
        marker="v",
        generate=shifted,
        alignment=True,
        dictionary=True,
        synthetic=True,
    )
)
