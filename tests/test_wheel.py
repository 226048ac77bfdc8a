"""A wheel built from this checkout works anywhere: the knowledge base travels inside it.

Built offline (no index, no build isolation) from a copy of the sources, installed into a
fresh virtual environment that borrows this interpreter's dependencies, and asked a
question from an unrelated folder, exactly as an operator would after ``pip install .``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.responder import Responder
from tests.conftest import ROOT

# one worker builds the wheel and its venv once for every test here (about 10 s)
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("wheel")]

OFFLINE = {"PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, f"{command}: exit {result.returncode}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A venv with the wheel installed; the environment to run it in (no KNOWLEDGE_DIR)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "bot", source / "bot", symlinks=True, ignore=ignore)
    shutil.copytree(ROOT / "knowledge", source / "knowledge", ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"KNOWLEDGE_DIR", "PYTHONPATH", "VIRTUAL_ENV"}
    } | OFFLINE
    python = sys.executable
    run(
        [
            python,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            "dist",
            str(source),
        ],
        work,
        environment,
    )
    [wheel] = (work / "dist").glob("*.whl")
    run([python, "-m", "venv", "--system-site-packages", "venv"], work, environment)
    venv_python = str(work / "venv" / "bin" / "python")
    run([venv_python, "-m", "pip", "install", "-q", "--no-deps", str(wheel)], work, environment)
    elsewhere = work / "elsewhere"
    elsewhere.mkdir()
    return work / "venv", environment


def test_the_installed_command_answers_from_the_shipped_knowledge(installed, responder: Responder):
    venv, environment = installed
    elsewhere = venv.parent / "elsewhere"
    command = [str(venv / "bin" / "ketamine-bot"), "ask", "what is ketamine"]
    expected = responder.respond("what is ketamine")
    assert expected.kind.value == "answer"  # a real answer, not the fallback

    assert run(command, elsewhere, environment).stdout == expected.text + "\n"
    answered = json.loads(run([*command, "--json"], elsewhere, environment).stdout)
    assert answered == expected.to_json()


def test_the_installed_knowledge_base_is_the_wheels_own_copy(installed):
    venv, environment = installed
    result = run(
        [str(venv / "bin" / "ketamine-bot"), "validate"], venv.parent / "elsewhere", environment
    )
    location, _, summary = result.stdout.partition(": OK — ")
    assert Path(location).is_relative_to(venv)  # not this checkout's knowledge/
    assert Path(location).parts[-2:] == ("bot", "shipped_knowledge")
    assert summary.split()[1] == "entries," and int(summary.split()[0]) > 0


def test_knowledge_dir_still_overrides_the_shipped_copy(installed, folder: Path):
    venv, environment = installed
    result = run(
        [str(venv / "bin" / "ketamine-bot"), "validate"],
        venv.parent / "elsewhere",
        environment | {"KNOWLEDGE_DIR": str(folder)},
    )
    assert result.stdout.startswith(f"{folder}: OK — ")
