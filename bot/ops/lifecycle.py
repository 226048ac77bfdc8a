"""What the runner needs from each platform it runs in its one event loop."""

from __future__ import annotations

from typing import Protocol

from bot.exitcodes import EXIT_CONFIG, EXIT_FAILED, EXIT_OK

__all__ = ["EXIT_CONFIG", "EXIT_FAILED", "EXIT_OK", "Platform", "PlatformFailure"]


class PlatformFailure(RuntimeError):
    """A platform could not start, or stopped by itself.

    ``str()`` is the one line to print (empty when the failure was logged already);
    ``exit_code`` is what the process should exit with.
    """

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class Platform(Protocol):
    """One chat platform run by ``ketamine-bot run`` (Slack or Discord)."""

    name: str

    @property
    def connected(self) -> bool:
        """Taking events now."""

    @property
    def in_flight(self) -> int:
        """Events taken whose answers are not sent yet."""

    async def start(self) -> None:
        """Sign in and start taking events; raise ``PlatformFailure`` when that fails."""

    async def wait_connected(self) -> None:
        """Return once the platform is taking events."""

    async def finished(self) -> None:
        """Return (or raise ``PlatformFailure``) when the platform stops by itself."""

    async def close_intake(self) -> None:
        """Stop taking new events (answers in flight go on)."""

    async def stop(self, drain_seconds: float) -> None:
        """Stop taking events, wait up to ``drain_seconds`` for answers in flight, close."""
