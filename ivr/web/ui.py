"""The web UI: a static single-page app at `/` (files in `static/`, no build step).

It is plain HTML, CSS and JavaScript modules that use only the public API under /api/ with the key the
person typed, so it can do nothing a key could not do with curl. Served with a strict Content Security
Policy: every script, style and request stays on this origin.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).parent / "static"
PREFIX = "/ui/"
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; "
                               "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


async def index(request: web.Request) -> web.FileResponse:
    """The single page; every view is drawn by static/js from the URL's #fragment."""
    return web.FileResponse(STATIC / "index.html", headers={"Content-Type": "text/html; charset=utf-8"})


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    if request.path == "/" or request.path.startswith(PREFIX):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)


def setup_ui(app: web.Application) -> None:
    """Serve the UI at / and its files under /ui/."""
    app.router.add_get("/", index)
    app.router.add_static(PREFIX, STATIC, append_version=False)
    app.on_response_prepare.append(_security_headers)
