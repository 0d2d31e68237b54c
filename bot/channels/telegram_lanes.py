"""The Bot API client of every call but getUpdates: several small connection pools side by side.

Kibaru sends the replies of several chats at once (`SENDING_CHATS`), which hides Telegram's
round trip from Mali. One httpx client with a pool that large costs CPU on every call:
httpcore re-examines each connection of its pool whenever a request enters or leaves it (it
asks every idle socket whether the server closed it, and counts the idle ones once per idle
connection), so the work per call grows with the square of the pool. Profiled with
`benchmarks/reporting.py --profile`, a pool of 10 spent about a tenth of the bot's CPU there.
Lanes of two connections each keep that scan tiny while as many calls fly at once.
"""

from __future__ import annotations

import httpx
from telegram._utils.types import ODVInput  # the type PTB's own HTTPXRequest uses
from telegram.request import BaseRequest, HTTPXRequest, RequestData

#: connections per lane: one for the call in flight, one spare for a call that overlaps it
LANE_CONNECTIONS = 2
#: seconds to connect, write and read: PTB's own default
PTB_TIMEOUT = 5.0


class LanedRequest(BaseRequest):
    """Each call goes to the lane with the fewest calls in flight: the first lane while the
    bot is quiet (its connections stay warm), all of them under load."""

    def __init__(
        self,
        connections: int,
        *,
        timeout: float = PTB_TIMEOUT,
        pool_timeout: float = 1.0,
    ) -> None:
        """`timeout` (seconds) for connecting, writing and reading; `pool_timeout` for a
        free connection of the lane."""
        lanes = max(1, -(-connections // LANE_CONNECTIONS))
        # one TLS context for all: loading the certificate authorities is the costly part of
        # a client's creation, in start-up time and in memory
        tls = httpx.create_ssl_context()
        self._lanes = [
            HTTPXRequest(
                connection_pool_size=LANE_CONNECTIONS,
                read_timeout=timeout,
                write_timeout=timeout,
                connect_timeout=timeout,
                pool_timeout=pool_timeout,
                httpx_kwargs={"verify": tls},
            )
            for _ in range(lanes)
        ]
        self._in_flight = [0] * lanes

    @property
    def lanes(self) -> int:
        return len(self._lanes)

    @property
    def read_timeout(self) -> float | None:
        return self._lanes[0].read_timeout

    async def initialize(self) -> None:
        for lane in self._lanes:
            await lane.initialize()

    async def shutdown(self) -> None:
        for lane in self._lanes:
            await lane.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        in_flight = self._in_flight
        lane = in_flight.index(min(in_flight))
        in_flight[lane] += 1
        try:
            return await self._lanes[lane].do_request(
                url,
                method,
                request_data,
                read_timeout=read_timeout,
                write_timeout=write_timeout,
                connect_timeout=connect_timeout,
                pool_timeout=pool_timeout,
            )
        finally:
            in_flight[lane] -= 1
