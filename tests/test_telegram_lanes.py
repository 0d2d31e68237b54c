"""The Bot API client's lanes: calls spread over small pools, the first lane while quiet."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.channels.telegram_lanes import LANE_CONNECTIONS, LanedRequest


class HeldLane:
    """Stands for one lane's HTTPXRequest: counts its calls and holds them until released."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.release = asyncio.Event()

    async def do_request(
        self, url: str, method: str, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        self.calls.append(url)
        await self.release.wait()
        return 200, b'{"ok": true, "result": true}'


def held(request: LanedRequest) -> list[HeldLane]:
    lanes = [HeldLane() for _ in range(request.lanes)]
    request._lanes = lanes  # type: ignore[assignment]
    return lanes


def test_the_connections_are_split_in_lanes_of_two() -> None:
    assert LANE_CONNECTIONS == 2
    assert LanedRequest(10).lanes == 5
    assert LanedRequest(9).lanes == 5  # rounded up: never fewer connections than asked
    assert LanedRequest(1).lanes == 1


async def test_calls_in_flight_go_to_the_least_busy_lanes() -> None:
    request = LanedRequest(6)
    lanes = held(request)
    calls = [asyncio.create_task(request.do_request(f"https://api/{n}", "POST")) for n in range(6)]
    await asyncio.sleep(0)  # every call reaches its lane and waits there
    assert [len(lane.calls) for lane in lanes] == [2, 2, 2]
    for lane in lanes:
        lane.release.set()
    assert [await call for call in calls] == [(200, b'{"ok": true, "result": true}')] * 6
    assert request._in_flight == [0, 0, 0]


async def test_a_quiet_bot_keeps_to_the_first_lane() -> None:
    request = LanedRequest(10)
    lanes = held(request)
    for lane in lanes:
        lane.release.set()
    for n in range(4):
        await request.do_request(f"https://api/{n}", "POST")
    assert [len(lane.calls) for lane in lanes] == [4, 0, 0, 0, 0]


async def test_a_failed_call_frees_its_place_in_the_lane() -> None:
    request = LanedRequest(4)

    class Failing(HeldLane):
        async def do_request(self, url: str, method: str, *a: Any, **k: Any) -> tuple[int, bytes]:
            raise ConnectionError("dropped")

    request._lanes = [Failing(), HeldLane()]  # type: ignore[list-item]
    # the lane's error reaches PTB, which turns it into NetworkError
    with pytest.raises(ConnectionError):
        await request.do_request("https://api/x", "POST")
    assert request._in_flight == [0, 0]
