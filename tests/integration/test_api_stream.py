"""Live values over server-sent events, and request metrics, on a real uvicorn."""

import asyncio
import json
from datetime import UTC, datetime

import httpx
from api_reads import read_api
from waiting import eventually

from api.app import make_server
from meterledger.embedded import free_port
from store.readings import Reading, write_readings


async def test_stream_sends_a_value_written_after_connecting(database_url: str) -> None:
    async with read_api(database_url) as api:
        port = free_port()
        server = make_server(api.app, "127.0.0.1", port)
        serving = asyncio.create_task(server.serve())
        await eventually(lambda: server.started)
        pid = api.point("berlin", "grid-main", "power")
        await write_readings(api.pool, [Reading(pid, datetime(2026, 1, 1, tzinfo=UTC), 1.0)])
        headers = dict(api.client.headers)
        try:
            async with (
                httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers) as client,
                client.stream("GET", "/api/v1/live/stream", timeout=15) as response,
            ):
                assert response.headers["content-type"].startswith("text/event-stream")
                await asyncio.sleep(0.3)  # connected; now a new value is committed
                now = datetime.now(UTC).replace(microsecond=0)
                await write_readings(api.pool, [Reading(pid, now, 42.5)])
                event = await asyncio.wait_for(_first_value(response), 10)
        finally:
            server.should_exit = True
            await serving
    assert event["event"] == "value"
    data = json.loads(event["data"])
    assert (data["point_id"], data["value"], data["unit"]) == (pid, 42.5, "kW")
    assert data["ts"] == now.isoformat().replace("+00:00", "Z")


async def _first_value(response: httpx.Response) -> dict[str, str]:
    event: dict[str, str] = {}
    async for line in response.aiter_lines():
        if not line:
            if "data" in event:
                return event
            event = {}
        elif not line.startswith(":"):
            field, _, value = line.partition(":")
            event[field] = value.strip()
    raise AssertionError("the stream ended without an event")


async def test_metrics_count_requests_by_route_template(database_url: str) -> None:
    async with read_api(database_url) as api:
        pid = api.point("berlin", "grid-main", "power")
        for _ in range(3):
            await api.client.get(f"/api/v1/points/{pid}")
        await api.client.get("/api/v1/points/999999")
        text = (await api.client.get("/metrics")).text
    route = 'route="/api/v1/points/{point_id}"'
    assert f'meterledger_http_requests_total{{method="GET",{route},status="200"}} 3.0' in text
    assert f'meterledger_http_requests_total{{method="GET",{route},status="404"}} 1.0' in text
    assert f'meterledger_http_request_duration_seconds_count{{method="GET",{route}}} 4.0' in text
