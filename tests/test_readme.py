"""The README's promise is what CI proves: .ci/run calls the README's test command."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _commands():
    return re.findall(r"^    (pip install .+)$", (ROOT / "README.md").read_text(), re.M)


def test_readme_has_exactly_two_commands():
    commands = _commands()
    assert len(commands) == 2
    assert commands[0].endswith("python -m sknn compare")
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert _commands()[1] in ci
