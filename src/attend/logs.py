"""Send a job's logging (and anything printed to stderr, e.g. by TensorFlow) to a log file."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path


def log_to(path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    stream = open(path, "a", buffering=1)  # noqa: SIM115  the job's stderr for the rest of the process
    os.dup2(stream.fileno(), 2)  # native libraries (TensorFlow's C++ logging) write to fd 2
    sys.stderr = stream
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")  # TensorFlow: warnings and errors only
    logging.basicConfig(
        level=logging.INFO,
        stream=stream,
        force=True,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Matplotlib's PDF backend subsets fonts through fontTools, which logs every glyph at INFO.
    logging.getLogger("fontTools").setLevel(logging.WARNING)
