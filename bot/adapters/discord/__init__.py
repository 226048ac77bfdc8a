"""Discord adapter: ``KetamineCog`` for any ``commands.Bot``, and ``ketamine-bot run discord``.

A host bot adds it with ``await bot.add_cog(KetamineCog(bot))`` (default knowledge
base) or ``KetamineCog(bot, service=...)``, or loads it as an extension with
``await bot.load_extension("bot.adapters.discord")``. Syncing slash commands stays
the host's decision (``await bot.tree.sync()``); the standalone runner does it itself.
"""

from __future__ import annotations

from discord.ext import commands

from bot.adapters.discord.cog import KetamineCog

__all__ = ["KetamineCog", "setup"]


async def setup(bot: commands.Bot) -> None:
    """Extension entry point: add ``KetamineCog`` with the default knowledge base."""
    await bot.add_cog(KetamineCog(bot))
