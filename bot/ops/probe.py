"""``python -m bot.ops.probe [PATH]``: exit 0 when the running bot answers ``/healthz``.

For a container ``HEALTHCHECK`` (the slim image has no curl): it asks the internal
listener (``METRICS_PORT``, on ``METRICS_HOST`` or loopback when that is every interface),
else the public port (``PORT``, default 3000) on loopback. The settings are read as the
bot reads them (``bot.settings``), so the probe and the bot never disagree on a port.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from collections.abc import Sequence

from bot.adapters.slack.settings import DEFAULT_PORT
from bot.exitcodes import EXIT_FAILED, EXIT_OK
from bot.settings import Settings, SettingsProblem, load_settings

TIMEOUT_SECONDS = 4.0  # below Docker's default --timeout (30 s) and the image's (5 s)
LOOPBACK = "127.0.0.1"
EVERY_INTERFACE = frozenset({"0.0.0.0", "::", ""})


def probe_url(settings: Settings, path: str = "/healthz") -> str:
    """The URL to ask: the internal listener when there is one, else the public port."""
    if settings.metrics_port is not None:
        host = settings.metrics_host
        host = LOOPBACK if host in EVERY_INTERFACE else host
        return f"http://{host}:{settings.metrics_port}{path}"
    port = (settings.port or "").strip() or str(DEFAULT_PORT)
    return f"http://{LOOPBACK}:{port}{path}"


def main(argv: Sequence[str] | None = None, settings: Settings | None = None) -> int:
    """0 when the URL answers 200, else 1 with one line saying why."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        settings = settings or load_settings()
    except SettingsProblem as problem:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return EXIT_FAILED
    url = probe_url(settings, *arguments[:1])
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except (OSError, ValueError) as error:
        print(f"unhealthy: {url}: {error}", file=sys.stderr)
        return EXIT_FAILED
    if status != 200:
        print(f"unhealthy: {url} answered {status}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
