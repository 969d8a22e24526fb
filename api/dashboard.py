"""The energy manager's dashboard: ``GET /`` serves the page, ``/static`` its assets.

The page and its assets hold no plant data, so they are open like ``/openapi.json``; the
page asks `/api/v1` for everything with the user's bearer token, so the API's roles
apply to it unchanged. Our own code is plain ES modules and CSS, served as written: no
build step means no Node toolchain to install, audit or keep in step to run or change the
dashboard, and what is served is what is read in review. The one third-party asset
(uPlot) is vendored under ``static/vendor`` by ``deploy/vendor-assets.sh``. The
Content-Security-Policy keeps the page from loading or sending anything off this origin.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent / "static"
#: Only this origin, for scripts, styles, images and requests alike; no inline script.
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
HEADERS = {
    "Content-Security-Policy": POLICY,
    # The first load carries ?token=…: no Referer may repeat it anywhere.
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


def install(app: FastAPI) -> None:
    """Serve the page at ``/`` and its assets at ``/static``."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    async def dashboard() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html", headers=HEADERS)
