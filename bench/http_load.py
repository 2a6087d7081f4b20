"""A small HTTP/1.1 load generator for the HTTP benchmarks: N keep-alive connections to
127.0.0.1 only, each sending requests back to back, bounded in requests and in time.

Hand-written on asyncio streams rather than httpx: an httpx client spends more CPU per
request than a bare litestar endpoint does, so on this 2-core machine it would cap the
baseline and flatter the ratio. Parsing is the minimum HTTP/1.1 needs (status line,
Content-Length); the servers measured here always send Content-Length."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    requests: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


async def _connection(port: int, request: bytes, deadline: float, budget: list[int],
                      result: LoadResult) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while budget[0] > 0 and time.perf_counter() < deadline:
            budget[0] -= 1
            started = time.perf_counter()
            writer.write(request)
            status_line = await reader.readline()
            status = int(status_line.split(b" ", 2)[1])
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            if length:
                await reader.readexactly(length)
            result.latencies.append(time.perf_counter() - started)
            result.statuses[status] = result.statuses.get(status, 0) + 1
    finally:
        writer.close()
        await writer.wait_closed()


def request_bytes(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: keep-alive",
             *(f"{k}: {v}" for k, v in headers.items())]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def run_load(port: int, request: bytes | list[bytes], *, connections: int,
             max_requests: int, max_seconds: float) -> LoadResult:
    """Sends `request` (or, given a list, connection i sends request i) over
    `connections` keep-alive connections until `max_requests` were sent or `max_seconds`
    passed."""
    result = LoadResult(0, 0.0)
    budget = [max_requests]
    per_connection = request if isinstance(request, list) else [request] * connections

    async def main() -> None:
        deadline = time.perf_counter() + max_seconds
        await asyncio.gather(*(_connection(port, per_connection[i], deadline, budget, result)
                               for i in range(connections)))

    started = time.perf_counter()
    asyncio.run(main())
    result.seconds = time.perf_counter() - started
    result.requests = len(result.latencies)
    return result
