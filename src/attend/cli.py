"""The ``attend`` command (pyproject's console script): one subcommand per tool for a
model of any origin. Each subcommand lives in its own module and imports what it needs
only when run, so ``attend analyse`` never imports torch, nor ``attend probe-hf`` the
plotting.

  attend analyse PROBE.npz --out DIR     tables, figures and a summary of one probe
  attend probe-hf --model NAME --pairs FILE --out PROBE.npz
                                         the probe of a Hugging Face encoder-decoder
                                         (pip install 'attend[hf]')
  attend test-pairs DATASET.npz --corpus fra.txt --out PAIRS.tsv
                                         the written sentence pairs of this project's
                                         translation test split, for probe-hf
  attend check-config FILE...            config files read and checked, errors naming file,
                                         line and key
"""

from __future__ import annotations

import importlib
import sys

# subcommand -> (module with main(argv, prog), what it does)
COMMANDS = {
    "analyse": ("attend.probe_report", "tables, figures and a summary of one probe"),
    "probe-hf": ("attend.adapters.hf", "the probe of a Hugging Face encoder-decoder model (pip install 'attend[hf]')"),
    "test-pairs": ("attend.adapters.pairs", "the written sentence pairs of this project's translation test split"),
    "check-config": (
        "attend.config",
        "config files read (YAML errors name file and line) and checked as the workflow checks them",
    ),
}


def usage() -> str:
    width = max(map(len, COMMANDS))
    return "usage: attend COMMAND [options]   (attend COMMAND --help for its options)\n\ncommands:\n" + "\n".join(
        f"  {name:<{width}}  {what}" for name, (_, what) in COMMANDS.items()
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0 if argv else 2
    name, *rest = argv
    if name not in COMMANDS:
        print(f"attend: error: unknown command {name!r}\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[name][0])
    run = getattr(module, "check_main" if name == "check-config" else "main")
    return run(rest, prog=f"attend {name}")


if __name__ == "__main__":
    sys.exit(main())
