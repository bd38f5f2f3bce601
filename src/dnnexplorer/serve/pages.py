"""The lab's pages: one list of them, and the shell every page is served in.

A page file (under static/) holds only its own head lines (its scripts and styles) and its
<main>; `render_page` puts it inside static/shell.html, which holds what every page shares:
the <head> basics, the window's title and the header with its navigation. The navigation and
the titles come from `PAGES`, so a new page is its HTML file, its JS (and CSS) files, and one
line in `PAGES`.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"
SHELL = STATIC / "shell.html"


@dataclass(frozen=True)
class Page:
    """One page of the lab.

    `section`: the header link marked while the page is shown. A page that is its own section
    (section == route) gets a link of its own in the header, named by its title.
    """

    route: str  # where the browser finds it, e.g. "/learn/filters"
    file: str  # its page file, under static/ (an absolute path is taken as it is)
    title: str  # the window's title (and the header link's name)
    section: str

    @property
    def in_navigation(self) -> bool:
        return self.section == self.route


PAGES = (  # route, file, title, section; the header's links in this order
    Page("/", "draw.html", "Draw", "/"),
    Page("/train", "train.html", "Train", "/train"),
    Page("/runs", "runs.html", "Runs", "/runs"),
    Page("/learn", "learn/index.html", "Learn", "/learn"),
    Page("/learn/filters", "learn/filters.html", "How a filter works", "/learn"),
    Page("/learn/playground", "learn/playground.html", "A 2-D playground", "/learn"),
    Page("/learn/descent", "learn/descent.html", "Gradient descent you can steer", "/learn"),
    Page("/learn/inside", "learn/inside.html", "Inside a CNN", "/learn"),
)


def add_pages(app: FastAPI, pages: Sequence[Page] = PAGES) -> None:
    """Serve every page at its route, and static/ (scripts, styles, pictures) at /static."""
    for page in pages:
        handler = _page_handler(page, pages)
        app.add_api_route(page.route, handler, methods=["GET"], include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")


def navigation(pages: Sequence[Page], section: str) -> str:
    """The header's links, one per page that is its own section, the current section marked.

    Links are relative ("train", not "/train"): the page's <base> says where the lab lives.
    """
    links = "".join(
        f'<a href="{page.route.lstrip("/") or "./"}"'
        + (' class="current"' if page.route == section else "")
        + f">{html.escape(page.title)}</a>"
        for page in pages
        if page.in_navigation
    )
    return f"<nav>{links}</nav>"


def render_page(page: Page, pages: Sequence[Page] = PAGES, root: str = "") -> str:
    """A whole HTML page: the page's file (its <head> lines, then its <main>) inside the shell.

    `root`: the path prefix under which the browser sees the lab ("" when served at "/").
    """
    text = (STATIC / page.file).read_text(encoding="utf-8")
    split = text.index("<main")
    shell = SHELL.read_text(encoding="utf-8")
    return (
        shell.replace("<!--root-->", html.escape(root.rstrip("/"), quote=True))
        .replace("<!--title-->", html.escape(page.title))
        .replace("<!--head-->", text[:split].strip())
        .replace("<!--main-->", text[split:].strip())
        .replace("<nav></nav>", navigation(pages, page.section))
    )


def _page_handler(page: Page, pages: Sequence[Page]):  # the route handler serving one page
    async def serve_page(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        text = render_page(page, pages, root)
        return HTMLResponse(text, headers={"Cache-Control": "no-cache"})

    return serve_page
