"""The Python is linted and formatted as the workflow is (snakefmt, `snakemake --lint`, in
test_workflow.py): ruff, with the settings in pyproject.toml. To fix what these report:
`ruff format . && ruff check --fix .` from the repository's root."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RUFF = Path(sys.executable).with_name("ruff")


def ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(RUFF), *args], cwd=REPO, capture_output=True, text=True)


def test_ruff_check_is_clean():
    """Every rule pyproject.toml selects holds, and no `# noqa` is left that answers no rule
    (RUF100)."""
    result = ruff("check", "--output-format", "concise", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean():
    result = ruff("format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr
