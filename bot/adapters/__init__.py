"""Adapters: receive a platform event, ask the core, render the ``Reply`` natively, send it."""
