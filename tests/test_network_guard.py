import asyncio
import socket

import pytest

from tests.network_guard import NetworkBlocked


def test_public_address_is_refused():
    with pytest.raises(NetworkBlocked), socket.socket() as sock:
        sock.connect(("93.184.216.34", 443))


def test_name_resolution_beyond_loopback_is_refused():
    with pytest.raises(NetworkBlocked):
        socket.getaddrinfo("slack.com", 443)


async def test_asyncio_connections_are_guarded_too():
    with pytest.raises(NetworkBlocked):
        await asyncio.open_connection("10.1.2.3", 80)


async def test_loopback_is_allowed():
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    _reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.close()
    server.close()
    await server.wait_closed()
