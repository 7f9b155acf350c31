"""The API benchmark's kept-open client: one connection, the same GET, the whole answer read."""

import asyncio
import itertools

import pytest

from bench.api import _Connection, _load


async def _server(answers: list[bytes], seen: list[bytes]):
    """Answer each request on a connection with the next answer (the last one from then on)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for n in itertools.count():
            try:
                seen.append(await reader.readuntil(b"\r\n\r\n"))
            except asyncio.IncompleteReadError:  # the client closed the connection
                break
            writer.write(answers[min(n, len(answers) - 1)])
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def _answer(status: str, body: bytes) -> bytes:
    return f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body


def test_a_connection_reads_each_whole_answer_and_its_status_on_one_socket():
    async def scenario():
        seen: list[bytes] = []
        answers = [_answer("200 OK", b'{"a": 1}'), _answer("401 Unauthorized", b"{}")]
        server, port = await _server(answers, seen)
        async with server:
            base, headers = f"http://127.0.0.1:{port}", {"Authorization": "Bearer t"}
            connection = await _Connection.open(base, headers, "/api/me")
            statuses = [await connection.get(), await connection.get()]
            await connection.close()
        return statuses, seen

    statuses, seen = asyncio.run(scenario())
    assert statuses == [200, 401]
    assert len(seen) == 2  # both went over the one connection
    assert seen[0].startswith(b"GET /api/me HTTP/1.1\r\n")
    assert b"\r\nAuthorization: Bearer t\r\n" in seen[0]


def test_an_answer_without_a_length_is_refused_rather_than_misread():
    async def scenario():
        chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
        server, port = await _server([chunked], [])
        async with server:
            connection = await _Connection.open(f"http://127.0.0.1:{port}", {}, "/")
            try:
                await connection.get()
            finally:
                await connection.close()

    with pytest.raises(RuntimeError, match="Content-Length"):
        asyncio.run(scenario())


def test_a_load_counts_requests_and_the_answers_that_were_not_ok():
    async def scenario():
        answers = [_answer("200 OK", b"{}"), _answer("500 Internal Server Error", b"")]
        server, port = await _server(answers, [])
        async with server:
            return await _load(f"http://127.0.0.1:{port}", {}, "/", clients=2, seconds=0.2)

    count, elapsed, latencies, errors = asyncio.run(scenario())
    assert count == len(latencies) > 0
    assert elapsed > 0
    assert errors and set(errors) == {500}  # after each connection's warm-up, every one failed
