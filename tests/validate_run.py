"""``ketamine-bot validate FOLDER`` as a member of staff would run it, for tests that break
a knowledge folder on purpose and read what it says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def validate(folder: Path) -> subprocess.CompletedProcess[str]:
    """Run ``validate`` on ``folder`` in a fresh process; its exit code and output."""
    return subprocess.run(
        [sys.executable, "-m", "bot", "validate", str(folder)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
