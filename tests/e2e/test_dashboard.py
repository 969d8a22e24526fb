"""The dashboard in headless Chromium, on the running example plant.

The whole system runs in-process (simulated meters over Modbus and MQTT, collector,
store, API) with last month's counters written beforehand so a month can be closed. The
browser is Debian's Chromium driven by Playwright (never `playwright install`: nothing is
downloaded); every request it makes is recorded, to show that none leaves 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize, async_playwright

from meterledger.bootstrap import Runtime, run_system
from meterledger.config import PlantConfig, load_config
from meterledger.settings import Settings
from store.access import Role, create_token
from store.catalog import PointRef
from store.pool import open_pool
from store.readings import Reading, write_readings

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "plant.yaml"
CHROMIUM = os.environ.get("METERLEDGER_TEST_CHROMIUM", "/usr/bin/chromium")
SITE = "shenyang-dairy"
ZONE = "Asia/Shanghai"
#: kWh, Nm3, t or m3 per hour of last month's seeded counters, by meter; a plant of this
#: size, with the workshops under the grid meter leaving part of the load unmetered.
RATES = {
    "grid-main": 900.0,
    "ws-process": 300.0,
    "ws-filling": 200.0,
    "ws-cold": 250.0,
    "ws-utilities": 150.0,
    "pv-roof": 120.0,
    "boiler-gas": 150.0,
    "boiler-steam": 1.2,
    "purchased-steam": 0.5,
    "water-main": 30.0,
    "line-cups": 1.5,
    "line-bottles": 1.2,
    "line-pouches": 1.0,
}


def on_free_ports(config: PlantConfig, run: str) -> PlantConfig:
    """The example plant on free ports (Modbus gateways, API) and topics of its own."""
    modbus = tuple(s.model_copy(update={"port": 0}) for s in config.sources.modbus)
    mqtt = tuple(s.model_copy(update={"topic": f"{run}/{s.topic}"}) for s in config.sources.mqtt)
    return config.model_copy(
        update={
            "sources": config.sources.model_copy(update={"modbus": modbus, "mqtt": mqtt}),
            "collector": config.collector.model_copy(update={"client_id": f"dash-{run}"}),
            "api": config.api.model_copy(update={"port": 0}),
        }
    )


def last_month(now: datetime) -> tuple[datetime, datetime, str]:
    """Start and end (UTC) of the month before ``now`` in the site's zone, and its key."""
    local = now.astimezone(ZoneInfo(ZONE))
    end = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    start = (end - timedelta(days=1)).replace(day=1)
    return start.astimezone(UTC), end.astimezone(UTC), f"{start:%Y-%m}"


async def seed_last_month(database_url: str, ids: dict[PointRef, int]) -> str:
    """Hourly counter readings through last month and an hour beyond, below today's
    simulated counters (which start at the plant file's `initial`); the month's key."""
    start, end, key = last_month(datetime.now(UTC))
    hours = int((end - start) / timedelta(hours=1)) + 2
    rows = []
    for ref, point in ids.items():
        rate = RATES.get(ref.meter)
        if ref.point == "energy_export":
            rate = 0.0  # nothing exported: the counter stands still
        elif ref.point not in ("energy_import", "volume", "mass", "energy", "output"):
            continue
        if rate is None:
            continue
        rows += [
            Reading(point, start + timedelta(hours=h), 1000.0 + rate * h) for h in range(hours)
        ]
    pool = await open_pool(database_url)
    try:
        await write_readings(pool, rows)
    finally:
        await pool.close()
    return key


async def role_tokens(database_url: str) -> dict[str, str]:
    roles: tuple[Role, ...] = ("viewer", "manager", "auditor")
    pool = await open_pool(database_url)
    try:
        return {
            role: (await create_token(pool, f"dashboard {role}", role, created_by="test")).secret
            for role in roles
        }
    finally:
        await pool.close()


@dataclass
class Plant:
    runtime: Runtime
    url: str
    month: str
    tokens: dict[str, str] = field(default_factory=dict)


@pytest.fixture
async def plant(
    database_url: str,
    mqtt_url: str,
    tmp_path: Path,
    isolate: Callable[[PlantConfig], PlantConfig],
) -> AsyncIterator[Plant]:
    config = isolate(on_free_ports(load_config(EXAMPLE), uuid.uuid4().hex[:8]))
    settings = Settings(database_url=database_url, mqtt_url=mqtt_url, data_dir=tmp_path)
    stop = asyncio.Event()
    ready: asyncio.Future[Runtime] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        run_system(config, settings, stop, on_ready=ready.set_result, local_admin=True)
    )
    runtime = await asyncio.wait_for(ready, 60)
    month = await seed_last_month(database_url, runtime.point_ids)
    tokens = await role_tokens(database_url)
    tokens["admin"] = runtime.admin_token or ""
    yield Plant(runtime, runtime.api_url or "", month, tokens)
    stop.set()
    await asyncio.wait_for(task, 15)


class Cable:
    """A loopback TCP relay between the browser and the API that the test can cut.

    Cutting aborts every open connection (the live stream with them) and refuses new
    ones until mended: what a dropped Wi-Fi or a restarted proxy looks like to the page.
    """

    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.down = False
        self.writers: set[asyncio.StreamWriter] = set()
        self.tasks: set[asyncio.Task[None]] = set()
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def cut(self) -> None:
        self.down = True
        for writer in list(self.writers):
            writer.transport.abort()

    def mend(self) -> None:
        self.down = False

    async def close(self) -> None:
        self.cut()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.down:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.writers |= {writer, up_writer}
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(source, sink))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        self.writers.discard(sink)
        sink.transport.abort()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as driver:
        launched = await driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        await launched.close()


async def open_page(
    browser: Browser,
    url: str,
    token: str,
    view: str,
    requests: list[str] | None = None,
) -> tuple[BrowserContext, Page]:
    """A fresh context (its own sessionStorage) logged in by the ?token= link."""
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    if requests is not None:
        context.on("request", lambda r: requests.append(r.url))
    page = await context.new_page()
    await page.goto(f"{url}/?token={token}#{view}")
    await page.wait_for_selector(f"#view[data-view='{view.split('/')[0]}'][data-ready='true']")
    return context, page


async def text_changes(page: Page, selector: str, before: str, seconds: float = 15) -> str:
    await page.wait_for_function(
        "([s, before]) => { const t = document.querySelector(s)?.textContent; "
        "return t && t !== before && /\\d/.test(t); }",
        arg=[selector, before],
        timeout=seconds * 1000,
    )
    return await page.inner_text(selector)


async def overflows(page: Page) -> bool:
    width: bool = await page.evaluate(
        "document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )
    return width


def dark(rgb: str) -> bool:
    """Whether a computed ``rgb(r, g, b)`` colour is dark."""
    r, g, b = (int(x) for x in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b < 80


async def test_overview_streams_live_values_and_shows_a_lost_connection_until_it_recovers(
    plant: Plant, browser: Browser
) -> None:
    cable = Cable(plant.url)
    url = await cable.start()
    requests: list[str] = []
    try:
        context, page = await open_page(browser, url, plant.tokens["admin"], "overview", requests)
        power, stamp = "[data-live='electricity']", "[data-live-ts='electricity']"
        # A function, not a bare expression: Playwright (1.65) evaluates an expression
        # predicate with eval(), which the page's Content-Security-Policy forbids.
        await page.wait_for_function(
            "(s) => /\\d.*kW$/.test(document.querySelector(s)?.textContent || '')", arg=power
        )
        assert (await page.inner_text(power)).endswith("kW")
        assert (await page.inner_text("[data-live='natural_gas']")).endswith("Nm³/h")
        assert "token=" not in page.url, "the token is stripped from the address bar"
        await page.evaluate("window.notReloaded = true")
        # grid-main is polled every second: each streamed reading moves the card's instant
        first = await page.inner_text(stamp)
        await text_changes(page, stamp, first)
        assert (await page.inner_text(power)).endswith("kW")
        assert await page.evaluate("window.notReloaded === true"), "changed without a reload"
        marks = await page.evaluate(
            "['first-live-value', 'first-stream-value'].map("
            "n => performance.getEntriesByName(n)[0]?.startTime ?? null)"
        )
        print(
            f"\ndashboard load: navigation start to first live value {marks[0]:.0f} ms, "
            f"to first streamed value {marks[1]:.0f} ms"
        )
        assert await page.get_attribute("#live-status", "data-state") == "live"

        cable.cut()
        await page.wait_for_selector("#live-status[data-state='lost']", timeout=10_000)
        assert "connection lost" in await page.inner_text("#live-status")
        lost = await page.inner_text(stamp)
        await page.wait_for_timeout(2000)
        assert await page.inner_text(stamp) == lost, "nothing arrives while the cable is cut"
        cable.mend()
        await page.wait_for_selector("#live-status[data-state='live']", timeout=20_000)
        await text_changes(page, stamp, lost)
        assert await page.evaluate("window.notReloaded === true")

        await page.evaluate("location.hash = '#flow'")
        await page.wait_for_selector("[data-remainder='grid-main']")
        remainder = await page.inner_text("[data-remainder='grid-main']")
        assert "unmetered remainder" in remainder
        assert remainder.endswith("kW")
        await context.close()
    finally:
        await cable.close()
    hosts = {urlsplit(r).hostname for r in requests if not r.startswith("data:")}
    assert hosts == {"127.0.0.1"}, f"requests left the machine: {hosts}"


async def test_views_fit_phone_and_desktop_and_answer_the_keyboard_after_a_login_in_the_dark(
    plant: Plant, browser: Browser
) -> None:
    desktop: ViewportSize = {"width": 1280, "height": 800}
    context = await browser.new_context(viewport=desktop, color_scheme="dark")
    page = await context.new_page()
    await page.goto(f"{plant.url}/#overview")
    await page.wait_for_selector("#login:not([hidden]) #token")
    await page.fill("#token", "mlt_not-a-token")
    await page.click("#login-form button[type='submit']")
    await page.wait_for_selector("#login-error:has-text('unknown or revoked')")
    await page.fill("#token", plant.tokens["viewer"])
    await page.press("#token", "Enter")
    await page.wait_for_selector("#view[data-view='overview'][data-ready='true']")
    assert await page.is_hidden("#login")
    background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert dark(background), f"dark mode from the system setting: {background}"
    await page.click("#theme")
    light = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert not dark(light), f"the toggle switches to light: {light}"
    await page.click("#theme")
    assert dark(await page.evaluate("getComputedStyle(document.body).backgroundColor"))

    too_wide = []
    for width, height in ((1280, 800), (390, 844)):
        await page.set_viewport_size({"width": width, "height": height})
        for view in ("overview", "flow", "charts", "kpis", "ledger", "devices"):
            await page.evaluate(f"location.hash = '#{view}'")
            await page.wait_for_selector(f"#view[data-view='{view}'][data-ready='true']")
            await page.wait_for_timeout(300)  # charts size themselves to the width
            if await overflows(page):
                too_wide.append(f"{view} at {width}")
    assert too_wide == []

    await page.goto(f"{plant.url}/#overview")
    await page.wait_for_selector("#view[data-ready='true']")
    reached = None
    for _ in range(4):
        await page.keyboard.press("Tab")
        reached = await page.evaluate(
            "document.activeElement.closest('nav') ? document.activeElement.textContent : null"
        )
        if reached:
            break
    assert reached == "Overview", "Tab reaches the navigation (after the skip link)"
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#view[data-view='flow'][data-ready='true']")
    await context.close()


async def test_manager_closes_a_month_and_traces_a_line_while_auditor_and_viewer_get_no_buttons(
    plant: Plant, browser: Browser
) -> None:
    month = plant.month
    context, page = await open_page(browser, plant.url, plant.tokens["auditor"], f"ledger/{month}")
    await page.wait_for_selector("#statement .status[data-status='open']")
    assert await page.locator("[data-action]").count() == 0, "an auditor changes nothing"
    await context.close()

    context, page = await open_page(browser, plant.url, plant.tokens["manager"], f"ledger/{month}")
    await page.click("button[data-action='close']")
    await page.wait_for_selector("#statement .status[data-status='closed']", timeout=30_000)
    assert await page.locator("[data-action='review']").count() == 1
    await page.click("button[data-line='scope2/electricity/location/grid-main']")
    await page.wait_for_selector("#lineage [data-evidence]")
    readings = await page.locator(
        "#lineage [data-activity='grid-main/energy_import'] [data-evidence]"
    ).all_inner_texts()
    assert len(readings) >= 2, "a reading at or around each end of the month"
    assert all("kWh" in r and "good" in r for r in readings), readings
    factor = await page.inner_text("#lineage [data-factor]")
    assert "0.5703 tCO2/MWh" in factor, factor
    assert "×" in await page.inner_text("#lineage [data-formula]")
    await page.fill("[data-reason='close']", "late readings of grid-main")
    await page.click("button[data-action='recompute']")
    await page.wait_for_selector("#statement h3:has-text('version 2')", timeout=30_000)
    await page.click("button[data-diff='2']")
    await page.wait_for_selector("#diff h3")
    assert await page.inner_text("#diff h3") == "v1 → v2: late readings of grid-main"
    await context.close()

    context, page = await open_page(browser, plant.url, plant.tokens["auditor"], f"ledger/{month}")
    await page.wait_for_selector("#statement .status[data-status='closed']")
    assert await page.locator("[data-action]").count() == 0
    assert await page.locator("button[data-line]").count() > 0, "an auditor traces lines"
    await context.close()

    context, page = await open_page(browser, plant.url, plant.tokens["viewer"], f"ledger/{month}")
    await page.wait_for_selector("#statement .status[data-status='closed']")
    assert await page.locator("[data-action]").count() == 0
    assert await page.locator("button[data-line]").count() == 0, "lineage is not a viewer's"
    await context.close()
