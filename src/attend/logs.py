"""Send a job's logging (and anything printed to stderr, e.g. by TensorFlow) to a log file."""

from __future__ import annotations

import logging
import sys
from pathlib import Path


def log_to(path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    stream = open(path, "a", buffering=1)
    sys.stderr = stream  # native-library warnings and tracebacks go to the job's log
    logging.basicConfig(
        level=logging.INFO, stream=stream, force=True,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
