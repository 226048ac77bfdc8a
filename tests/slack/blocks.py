"""Block Kit that several Slack tests expect, written out once, exactly as Slack receives it."""

from __future__ import annotations

from typing import Any


def check_in_buttons(value: str) -> dict[str, Any]:
    """The check-in's actions block: both choices carry ``value`` (where it was asked)."""
    return {
        "type": "actions",
        "block_id": "ketamine_check_in",
        "elements": [
            {
                "type": "button",
                "action_id": "ketamine_check_in_support",
                "text": {"type": "plain_text", "text": "Yes, I'd like support", "emoji": True},
                "value": value,
                "style": "primary",
            },
            {
                "type": "button",
                "action_id": "ketamine_check_in_other",
                "text": {
                    "type": "plain_text",
                    "text": "No, I was asking about something else",
                    "emoji": True,
                },
                "value": value,
            },
        ],
    }
