"""Allow ``python -m bot`` as well as the ``ketamine-bot`` script."""

from bot.cli import main

raise SystemExit(main())
