"""What moderators see: the unanswered-question queue grouped by wording, and the report.

Kept apart from ``bot.storage`` (which only keeps rows) so the grouping rules and the report
layout can change without touching the database code.
"""
