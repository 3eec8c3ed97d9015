"""Opening a local HTML page in headless Chromium, as a reader would: which sections it has,
what it asked the network for, what it logged as an error, how long it took to load, and a
screenshot.

Shared by the browser tests (tests/test_report_browser.py), the README's screenshot
(scripts/readme_screenshot.py) and the render benchmark (benchmarks/report_render.py).

The driver is Playwright (``pip install -e '.[test]'``) on the system's Chromium (Debian's
``chromium`` package, installed by .ci/run): Playwright's own browser download is never
used. Set ``DLADVISOR_CHROMIUM`` to another Chromium or Chrome executable to use that one.

    from browser import chromium_missing, open_page
    visit = open_page("runs/penguins-.../report.html", screenshot="report.png")
    visit.sections, visit.requests, visit.console_errors, visit.load_ms
"""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

# Chromium as root in a container, on a machine whose network is closed: no sandbox (it
# needs user namespaces), no GPU, and none of the background connections a browser makes
# by itself (updates, sync, field trials), which would be refused and slow every start.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
# Schemes that never leave the page: inline images, blobs made by the page's own script.
_INLINE = ("data:", "blob:", "about:")
_WIDTH, _HEIGHT = 1280, 900


def chromium_path() -> str | None:
    """The Chromium executable to drive, or None when there is none."""
    named = os.environ.get("DLADVISOR_CHROMIUM")
    if named:
        return named if Path(named).is_file() else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def chromium_missing() -> str | None:
    """Why a page cannot be opened here (the reason to skip a browser test), or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed: pip install -e '.[test]'"
    if chromium_path() is None:
        if os.environ.get("DLADVISOR_CHROMIUM"):
            return f"DLADVISOR_CHROMIUM={os.environ['DLADVISOR_CHROMIUM']} is not a file"
        return (
            "Chromium is not installed: apt-get install chromium "
            "(or set DLADVISOR_CHROMIUM to a Chromium executable)"
        )
    return None


@dataclass
class PageVisit:
    """What one load of a page showed."""

    url: str
    sections: list[str]  # ids of the page's <section id=...> elements, in page order
    section_text: dict[str, int]  # characters of visible text in each of those sections
    console_errors: list[str]  # console.error messages, failed loads and uncaught exceptions
    requests: list[str]  # every URL the page asked for, other than itself and inline data
    load_ms: float  # navigation start to the end of the load event
    screenshot: Path | None = None
    title: str = ""
    warnings: list[str] = field(default_factory=list)  # console.warn messages


class Browser:
    """One headless Chromium; each ``open`` is a fresh page in a fresh context (no cache,
    no cookies from the load before)."""

    def __init__(self, browser):
        self._browser = browser

    def open(
        self,
        path: str | Path,
        screenshot: str | Path | None = None,
        *,
        width: int = _WIDTH,
        height: int = _HEIGHT,
        full_page: bool = True,
        timeout_s: float = 30,
    ) -> PageVisit:
        path = Path(path).resolve()
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such page")
        url = path.as_uri()
        context = self._browser.new_context(
            viewport={"width": width, "height": height}, service_workers="block"
        )
        requests: list[str] = []
        errors: list[str] = []
        warnings: list[str] = []
        try:
            page = context.new_page()
            page.set_default_timeout(timeout_s * 1000)
            page.on("request", lambda request: requests.append(request.url))
            page.on("websocket", lambda socket: requests.append(socket.url))
            page.on("console", lambda message: _console(message, errors, warnings))
            page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
            page.on("requestfailed", lambda r: errors.append(f"failed to load {r.url}"))
            # Nothing may leave the machine: a request to anything but the page itself is
            # recorded (above) and answered with an error here, never sent.
            context.route(lambda u: u != url and not u.startswith(_INLINE), _refuse)
            page.goto(url, wait_until="load")
            page.wait_for_function(
                "() => performance.getEntriesByType('navigation')[0].loadEventEnd > 0"
            )
            load_ms = page.evaluate(
                "() => { const n = performance.getEntriesByType('navigation')[0];"
                " return n.loadEventEnd - n.startTime; }"
            )
            found = page.eval_on_selector_all(
                "section[id]", "all => all.map(s => [s.id, s.innerText.trim().length])"
            )
            # Connections opened without a request: preconnect and dns-prefetch hints.
            requests += page.eval_on_selector_all(
                "link[rel~=preconnect], link[rel~=dns-prefetch]", "all => all.map(l => l.href)"
            )
            title = page.title()
            shot = None
            if screenshot is not None:
                shot = Path(screenshot)
                shot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(shot), full_page=full_page)
        finally:
            context.close()
        return PageVisit(
            url=url,
            sections=[name for name, _ in found],
            section_text={name: chars for name, chars in found},
            console_errors=errors,
            requests=[u for u in requests if u.split("#")[0] != url and not u.startswith(_INLINE)],
            load_ms=float(load_ms),
            screenshot=shot,
            title=title,
            warnings=warnings,
        )


def _console(message, errors: list[str], warnings: list[str]) -> None:
    if message.type == "error":
        errors.append(message.text)
    elif message.type == "warning":
        warnings.append(message.text)


def _refuse(route) -> None:
    route.abort("blockedbyclient")


@contextmanager
def chromium():
    """``with chromium() as browser: browser.open(path)``: one Chromium for several pages."""
    reason = chromium_missing()
    if reason:
        raise RuntimeError(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=FLAGS
        )
        try:
            yield Browser(browser)
        finally:
            browser.close()


def open_page(path: str | Path, screenshot: str | Path | None = None, **options) -> PageVisit:
    """Open ``path`` in a Chromium of its own; see ``Browser.open`` for ``options``."""
    with chromium() as browser:
        return browser.open(path, screenshot, **options)
