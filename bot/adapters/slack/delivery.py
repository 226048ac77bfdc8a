"""Send rendered messages to Slack: Web API calls and response_url posts.

Retries (rate limits with Retry-After, HTTP 500/503, dropped connections) are done by the
client's retry handlers; what still fails is logged here and reported as ``False``, so
one failed call never stops the bot from serving the next request. Logs name the method
and Slack's error code, never the member's text or a token.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.adapters.slack.render import Message
from bot.adapters.slack.settings import (
    CONNECTION_RETRIES,
    RATE_LIMIT_RETRIES,
    SERVER_ERROR_RETRIES,
)

log = logging.getLogger("bot.adapters.slack")
SDK_LOGGER = "slack_sdk.web.async_base_client"  # the one AsyncWebClient logs to by default

_NETWORK_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, SlackClientError)


def retry_handlers() -> list[AsyncRetryHandler]:
    """Retry what Slack asks us to (429 + Retry-After) and what is likely passing (5xx, resets)."""
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=CONNECTION_RETRIES),
        AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        AsyncServerErrorRetryHandler(max_retry_count=SERVER_ERROR_RETRIES),
    ]


def client_logger() -> logging.Logger:
    """A logger for the Web API client that builds debug lines only when they are shown.

    slack_sdk formats each request and response, the whole JSON body included, for a debug
    line whenever its logger's own level is unset (``logger.level <= DEBUG``), shown or
    not: 15 us per Block Kit answer. This child of its logger has its level set to the
    level in effect when the bot starts, so the lines are built only under
    ``LOG_LEVEL=DEBUG``; what is logged, and where, is unchanged.
    """
    logger = logging.getLogger(SDK_LOGGER).getChild("bot")
    logger.setLevel(logging.NOTSET)  # inherit, to read the level in effect now
    logger.setLevel(logger.getEffectiveLevel())
    return logger


def error_code(error: SlackApiError) -> str | None:
    """Return Slack's ``error`` code, if the failed response had a JSON body at all."""
    data = error.response.data
    return data.get("error") if isinstance(data, dict) else None


class Outbox:
    """Everything the adapter sends, through one Bolt-provided ``AsyncWebClient``.

    The client carries the token, the Web API base URL (``SLACK_API_URL``), the shared
    HTTP session and the retry handlers; response_url posts reuse all but the token.
    """

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def post(self, channel: str, message: Message, *, thread_ts: str | None = None) -> bool:
        """Post ``message`` in ``channel`` (a user id posts in the bot's DM with that user)."""
        payload: dict[str, Any] = {"channel": channel, **message}
        if thread_ts:
            payload["thread_ts"] = thread_ts
        payload.update(unfurl_links=False, unfurl_media=False)  # no preview cards for DOIs
        return await self._call("chat.postMessage", payload)

    async def post_ephemeral(
        self,
        channel: str,
        user: str,
        message: Message,
        *,
        thread_ts: str | None = None,
    ) -> bool:
        """Show ``message`` to ``user`` alone, in ``channel``."""
        payload: dict[str, Any] = {"channel": channel, "user": user, **message}
        if thread_ts:
            payload["thread_ts"] = thread_ts
        return await self._call("chat.postEphemeral", payload)

    async def publish_home(self, user: str, view: dict[str, Any]) -> bool:
        """Publish ``view`` as ``user``'s App Home tab."""
        return await self._call("views.publish", {"user_id": user, "view": view})

    async def respond(self, response_url: str | None, payload: dict[str, Any]) -> bool:
        """Post ``payload`` to a slash command's or a button's response_url."""
        if not response_url:
            log.warning("Slack: no response_url in the request; nothing sent")
            return False
        client = self._client
        webhook = AsyncWebhookClient(
            url=response_url,
            timeout=client.timeout,
            ssl=client.ssl,
            proxy=client.proxy,
            session=client.session,
            retry_handlers=client.retry_handlers,
            logger=client.logger,
        )
        try:
            response = await webhook.send_dict(payload)
        except _NETWORK_ERRORS as error:
            log.warning("Slack: response_url post failed: %s", type(error).__name__)
            return False
        if response.status_code != 200:
            log.warning(
                "Slack: response_url post failed: HTTP %s %s",
                response.status_code,
                str(response.body)[:80],
            )
            return False
        return True

    async def permalink(self, channel: str, ts: str) -> str | None:
        """The link to a message (chat.getPermalink), or ``None`` when Slack gives none."""
        data = await self._fetch("chat.getPermalink", {"channel": channel, "message_ts": ts})
        link = data.get("permalink") if data else None
        return link if isinstance(link, str) else None

    async def usergroup_members(self, usergroup: str) -> list[str] | None:
        """The user ids in a user group (usergroups.users.list), ``None`` when it failed."""
        data = await self._fetch("usergroups.users.list", {"usergroup": usergroup})
        users = data.get("users") if data else None
        return [str(user) for user in users] if isinstance(users, list) else None

    async def _call(self, method: str, payload: dict[str, Any]) -> bool:
        return await self._fetch(method, payload, json_body=True) is not None

    async def _fetch(
        self, method: str, payload: dict[str, Any], *, json_body: bool = False
    ) -> dict[str, Any] | None:
        """Call ``method``; its response data, or ``None`` (logged) when it failed."""
        try:
            if json_body:
                response = await self._client.api_call(method, json=payload)
            else:  # read methods take form parameters
                response = await self._client.api_call(method, params=payload)
        except SlackApiError as error:
            log.warning(
                "Slack: %s failed: %s (HTTP %s)",
                method,
                error_code(error) or "no error code",
                error.response.status_code,
            )
            return None
        except _NETWORK_ERRORS as error:
            log.warning("Slack: %s failed: %s", method, type(error).__name__)
            return None
        return response.data if isinstance(response.data, dict) else {}
