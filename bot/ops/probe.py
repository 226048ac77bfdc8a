"""``python -m bot.ops.probe [PATH]``: exit 0 when the running bot answers ``/healthz``.

For a container ``HEALTHCHECK`` (the slim image has no curl): it asks 127.0.0.1 on
``METRICS_PORT`` (served whenever set), else ``PORT`` (the Slack HTTP server), else 3000.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence

TIMEOUT_SECONDS = 4.0  # below Docker's default --timeout (30 s) and the image's (5 s)
DEFAULT_PORT = "3000"


def probe_url(environ: Mapping[str, str], path: str = "/healthz") -> str:
    """The URL to ask: the health server's port on loopback."""
    port = environ.get("METRICS_PORT") or environ.get("PORT") or DEFAULT_PORT
    return f"http://127.0.0.1:{port.strip()}{path}"


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """0 when the URL answers 200, else 1 with one line saying why."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    url = probe_url(os.environ if environ is None else environ, *arguments[:1])
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except (OSError, ValueError) as error:
        print(f"unhealthy: {url}: {error}", file=sys.stderr)
        return 1
    if status != 200:
        print(f"unhealthy: {url} answered {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
