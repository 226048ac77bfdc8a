"""What the safety screen adds to an install: its packages and its model files.

    python benchmarks/install_size.py

Sums the files each distribution installed (its RECORD) and the size of knowledge/models/.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCREEN_PACKAGES = ("onnxruntime", "tokenizers", "numpy")  # what the encoder needs at run time


def installed_bytes(name: str) -> int:
    total = 0
    for file in importlib.metadata.distribution(name).files or []:
        with contextlib.suppress(OSError):
            total += os.path.getsize(file.locate())
    return total


def main() -> None:
    total = 0
    for name in SCREEN_PACKAGES:
        size = installed_bytes(name)
        total += size
        version = importlib.metadata.version(name)
        print(f"{name} {version}: {size / 2**20:.1f} MiB")
    models = sum(path.stat().st_size for path in (ROOT / "knowledge" / "models").iterdir())
    total += models
    print(f"knowledge/models/: {models / 2**20:.1f} MiB")
    print(f"the safety screen adds {total / 2**20:.1f} MiB ({total / 1e6:.0f} MB) to an install")


if __name__ == "__main__":
    main()
