"""The programs under outside/ (not part of the package) imported as modules, once each."""

import importlib.util
import sys
from pathlib import Path

OUTSIDE = Path(__file__).resolve().parents[1] / "outside"


def outside_program(name: str):
    """outside/<name>.py as the module ``outside_<name>``."""
    module = f"outside_{name}"
    if module not in sys.modules:
        spec = importlib.util.spec_from_file_location(module, OUTSIDE / f"{name}.py")
        sys.modules[module] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[module])
    return sys.modules[module]
