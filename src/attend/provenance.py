"""Which code made a result: the source files a step runs, found by following the
package's own imports, and one checksum over them.

The workflow passes :func:`code_version` of each rule's script as a rule parameter: the
script's own code and that of every ``attend`` module it imports, directly or through
other modules, and of the modules it imports by name at run time (a figure's module, the
task modules), so editing a module reruns exactly the steps whose code reaches it (and what
depends on their outputs). The script counts in place of Snakemake's code trigger, which
compares the script's modification time with the outputs' (the workflow profiles turn that
trigger off: a fresh clone's scripts are newer than a copied results tree, yet the same
code). Content, not modification time, decides: a checkout or ``touch`` that leaves a
file's bytes alone reruns nothing, and the same code gives the same version on every
machine of a cluster. What counts is the code's syntax tree: comments, docstrings and
formatting change no result, so editing them reruns nothing.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
from functools import cache
from pathlib import Path

from .artifacts import file_digest

PACKAGE = "attend"
ROOT = Path(__file__).resolve().parent


def _path(module: str) -> Path | None:
    """The file of an ``attend`` module or package, if it exists."""
    parts = module.split(".")
    if parts[0] != PACKAGE:
        return None
    base = ROOT.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _package_of(module: str, path: Path) -> str:
    """The package a module's relative imports start from ("" for a script)."""
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _imports(module: str, path: Path) -> frozenset[str]:
    """The ``attend`` modules that ``module`` imports (absolutely or relatively), and
    the packages above each, whose ``__init__`` runs first."""
    return _imports_of_source(module, _package_of(module, path), path.read_text(), str(path))


# A workflow asks for many steps' code versions at once: each source text is parsed once
# (keyed by the text itself, so that a file edited in between is parsed again).
@cache
def _imports_of_source(module: str, package: str, text: str, filename: str) -> frozenset[str]:
    found = set()
    for node in ast.walk(ast.parse(text, filename)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            found.add(source)
            # `from pkg import name`: name may be a submodule
            found.update(f"{source}.{alias.name}" for alias in node.names)
    closed = set()
    for name in found:
        parts = name.split(".")
        closed.update(".".join(parts[:k]) for k in range(1, len(parts) + 1))
    return frozenset(name for name in closed if _path(name) is not None)


Entry = str | Path  # an importable module's name, or the path of a script file


def _entry_path(entry: Entry) -> Path:
    """The file of what a step runs: a module of the package's, one of the user's own (a
    task module named in the config, found where Python would import it from), or a
    script (a :class:`~pathlib.Path`: a workflow rule's, run as a file, not imported)."""
    if isinstance(entry, Path):
        if entry.suffix != ".py" or not entry.is_file():
            raise ValueError(f"{entry}: not a Python script file")
        return entry
    path = _path(entry)
    if path is None:
        spec = importlib.util.find_spec(entry)
        if spec is None or not spec.origin or not spec.origin.endswith(".py"):
            raise ValueError(f"{entry!r} is neither a module of the {PACKAGE} package nor an importable .py file")
        path = Path(spec.origin)
    return path


@cache
def source_files(*entries: Entry) -> tuple[Path, ...]:
    """Every file that ``entries`` (module names, or script paths) run: their own, and
    those of every ``attend`` module they import, transitively (sorted). A script's imports
    are followed as a module's are (absolute ones: a script has no package)."""
    seen: dict[str, Path] = {}
    todo = []
    for entry in entries:
        path = _entry_path(entry)
        name = entry if isinstance(entry, str) else f"<script {path}>"
        seen[name] = path
        todo.extend(_imports(name if isinstance(entry, str) else "__main__", path))
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen[name] = _path(name)
        todo.extend(_imports(name, seen[name]) - set(seen))
    return tuple(sorted(set(seen.values())))


def _code(path: Path) -> bytes:
    """A module's syntax tree without its docstrings, as text: what the code does, not how
    it is commented or laid out."""
    return _code_of_source(path.read_text(), str(path))


@cache
def _code_of_source(text: str, filename: str) -> bytes:
    tree = ast.parse(text, filename)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree).encode()


@cache
def code_version(*entries: Entry) -> str:
    """A short checksum of the code of the source files that ``entries`` (module names, or
    script paths) run (their names and syntax trees), so that any edit of what they do
    changes it."""
    digest = hashlib.sha256()
    for path in source_files(*entries):
        name = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name
        digest.update(name.encode() + b"\0" + _code(path) + b"\0")
    return digest.hexdigest()[:16]


def fingerprint(settings: dict, files=(), modules=()) -> str:
    """What a result is made from, as one checksum: its settings (JSON), the bytes of its
    input files and the code version of the modules that make it."""
    import json

    record = {
        "settings": settings,
        "files": [file_digest(f) for f in files],
        "code": code_version(*modules) if modules else None,
    }
    return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()[:16]
