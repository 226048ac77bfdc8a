"""The process exit codes of every ``ketamine-bot`` command, defined once.

Scripts, compose's restart policy and systemd's ``RestartPreventExitStatus`` read them,
so each number means one thing everywhere: 1 "it may work if tried again or the data is
fixed", 2 "a person must change a setting or the command line; restarting will not help".
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_PROBLEMS = 1  # validate/ask/evaluate: the knowledge base has problems
EXIT_FAILED = 1  # run: a platform or the database could not be reached, or failed later
EXIT_CONFIG = 2  # a setting is missing or malformed (config check, run, report)
EXIT_USAGE = 2  # the command line cannot be used as given (argparse exits 2 as well)

__all__ = ["EXIT_CONFIG", "EXIT_FAILED", "EXIT_OK", "EXIT_PROBLEMS", "EXIT_USAGE"]
