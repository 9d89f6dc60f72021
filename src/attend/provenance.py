"""Which code made a result: the source files a step runs, found by following the
package's own imports, and one checksum over them.

The workflow passes :func:`code_version` of each step's entry module as a rule parameter,
so editing a module reruns exactly the steps whose code reaches it (and what depends on
their outputs); each rule's own script counts too (:func:`script_version`), in place of
Snakemake's code trigger, which compares the script's modification time with the outputs'
(the workflow profiles turn that trigger off: a fresh clone's scripts are newer than a copied
results tree, yet the same code). Content, not modification time, decides: a checkout or ``touch`` that
leaves a file's bytes alone reruns nothing, and the same code gives the same version on
every machine of a cluster. What counts is the code's syntax tree: comments, docstrings and
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


def _entry_path(module: str) -> Path:
    """The file of a module a step runs: one of the package's, or one of the user's own
    (a task module named in the config), found where Python would import it from."""
    path = _path(module)
    if path is None:
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.origin or not spec.origin.endswith(".py"):
            raise ValueError(f"{module!r} is neither a module of the {PACKAGE} package nor an importable .py file")
        path = Path(spec.origin)
    return path


@cache
def source_files(*modules: str) -> tuple[Path, ...]:
    """Every file that ``modules`` run: their own, and those of every ``attend`` module
    they import, transitively (sorted)."""
    seen: dict[str, Path] = {name: _entry_path(name) for name in modules}
    todo = [i for name in modules for i in _imports(name, seen[name])]
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
def code_version(*modules: str) -> str:
    """A short checksum of the code of the source files that ``modules`` run (relative
    paths and syntax trees), so that any edit of what they do changes it."""
    digest = hashlib.sha256()
    for path in source_files(*modules):
        name = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name
        digest.update(name.encode() + b"\0" + _code(path) + b"\0")
    return digest.hexdigest()[:16]


def script_version(path: str | Path) -> str:
    """A short checksum of one file's code alone (its syntax tree, as :func:`code_version`
    hashes a module), without following its imports: a workflow rule's script, whose
    content rather than modification time decides whether its jobs rerun."""
    return hashlib.sha256(_code(Path(path))).hexdigest()[:16]


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
