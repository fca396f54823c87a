"""The review page. Local by design: bound to loopback by the CLI unless ``--allow-remote``, and every
request must carry the per-run token (in the URL for the page, in the form for a decision), compared in
constant time. Templates autoescape, so document text (entity names included) is always shown as text.

Every response, refusals, redirects and errors included, carries :data:`SECURITY_HEADERS`: a content
security policy that runs no script and loads nothing (the page's one inline style is allowed by its
hash), no framing, no referrer (the token is in the URL), no sniffing and no caching. A decision that
cannot be made is answered 4xx with one line of text and changes nothing.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kgbuild.errors import InputError, KgbuildError, StoreError
from kgbuild.graph.store import GraphStore
from kgbuild.graph.view import graph_data, render_view, store_facts
from kgbuild.schema import RelationSchema
from kgbuild.workflows.review import DECISIONS, BrokenItem, blocking, check_decision, decide, find_item, review_page

TEMPLATE_DIR = Path(__file__).parent / "templates"
TEMPLATES = Environment(loader=FileSystemLoader(TEMPLATE_DIR),
                        autoescape=select_autoescape(default=True, default_for_string=True))
T = TypeVar("T")
MAX_PAGE = 10_000_000  # a page number the database's 64-bit SKIP can take at any page size
MAX_BODY = 16 * 1024  # a decision is a few short fields
WRONG_SPAN = {"wrong_head": "head", "wrong_tail": "tail"}  # the page's buttons for wrong_entity + span


def _style_source(template: str) -> str:
    """The policy's ``style-src``: the hash of the template's one inline ``<style>`` (static text)."""
    found = re.search(r"<style>(.*?)</style>", (TEMPLATE_DIR / template).read_text(encoding="utf-8"), re.S)
    if found is None:
        return "'none'"
    return "'sha256-" + base64.b64encode(hashlib.sha256(found.group(1).encode()).digest()).decode() + "'"


CONTENT_SECURITY_POLICY = (f"default-src 'none'; style-src {_style_source('review.html')}; form-action 'self'; "
                           "frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


class SecurityHeaders:
    """Pure ASGI middleware: :data:`SECURITY_HEADERS` on every response. An exception that escapes the
    app is answered here (500, one line, the same headers) before it goes on to the server's log."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
            await send(message)

        try:
            await self.app(scope, receive, with_headers)
        except Exception:
            if not started:
                await PlainTextResponse("internal error; see the server's log", 500)(scope, receive, with_headers)
            raise


def refuse(status: int, message: str) -> Response:
    return PlainTextResponse(message, status)


def _view(page: str | None, floor: str | None) -> tuple[int, float] | str:
    """The page number (from 1) and the confidence filter a request asks for, or why they cannot be read."""
    try:
        number = int(page) if page else 1
        minimum = float(floor) if floor else 0.0
    except ValueError:
        return "page must be a whole number and min_confidence a number"
    if not 1 <= number <= MAX_PAGE or not 0.0 <= minimum <= 1.0:
        return f"page lies between 1 and {MAX_PAGE} and min_confidence between 0 and 1"
    return number, minimum


def review_app(store: GraphStore, schema: RelationSchema, bank: Path, token: str, reviewer: str) -> Starlette:
    def allowed(given: object) -> bool:
        return isinstance(given, str) and secrets.compare_digest(given.encode(), token.encode())

    lock = threading.Lock()  # one store connection: requests take turns on it, in worker threads

    def locked(work: Callable[[], T]) -> Awaitable[T]:
        """Store work off the event loop (it blocks: the database, the bank's file), one request at a time."""
        def run() -> T:
            with lock:
                return work()
        return run_in_threadpool(run)

    async def page(request: Request) -> Response:
        if not allowed(request.query_params.get("token")):
            return refuse(403, "a valid token is required (see the URL kgbuild review printed)")
        view = _view(request.query_params.get("page"), request.query_params.get("min_confidence"))
        if isinstance(view, str):
            return refuse(400, view)
        number, floor = view
        shown = await locked(lambda: review_page(store, schema, number, floor))
        rows = shown.rows
        html = TEMPLATES.get_template("review.html").render(
            items=rows.items, total=shown.total, broken=rows.broken, broken_total=len(rows.broken), token=token,
            labels=schema.all_labels, no_relation=schema.no_relation, bank=str(bank), page=shown.page,
            pages=shown.pages, min_confidence=floor, message=request.query_params.get("message", ""),
            link=lambda **changed: "/?" + urlencode({"token": token, "page": shown.page, "min_confidence": floor,
                                                     **changed}))
        return HTMLResponse(html)

    async def decision(request: Request) -> Response:
        form = await request.form()
        if not allowed(form.get("token")):
            return refuse(403, "a valid token is required")
        fields = {name: form.get(name) or "" for name in ("id", "decision", "label", "wrong")}
        if not all(isinstance(value, str) for value in fields.values()):
            return refuse(400, "id, decision, label and wrong must be text fields")
        wanted, word, label, wrong = (str(fields[name]) for name in ("id", "decision", "label", "wrong"))
        if not wanted:
            return refuse(400, "a decision names its triple: the id field is missing")
        if word in WRONG_SPAN:
            word, wrong = "wrong_entity", WRONG_SPAN[word]
        if word not in DECISIONS:
            return refuse(400, f"unknown decision; one of {', '.join(DECISIONS)}")
        view = _view(str(form.get("page") or ""), str(form.get("min_confidence") or ""))
        back = view if isinstance(view, tuple) else (1, 0.0)
        outcome = await locked(lambda: _decide(wanted, word, label, wrong))
        if isinstance(outcome, Response):
            return outcome
        query = {"token": token, "page": back[0], "min_confidence": back[1], "message": outcome}
        return RedirectResponse(f"/?{urlencode(query)}", status_code=303)

    def _decide(wanted: str, word: str, label: str, wrong: str) -> Response | str:
        """The decision on the item ``wanted`` names, found among the facts around its two entities only; a
        refusal, or the line the page shows."""
        item, broken = find_item(store, schema, wanted)
        if isinstance(item, BrokenItem):
            return refuse(409, "that evidence record is unreadable; it cannot be decided on here")
        if item is None:
            return refuse(404, "that triple is no longer in the graph; reload the page")
        try:
            check_decision(schema, item, word, label or None, wrong)
        except InputError as exc:
            return refuse(400, str(exc))
        if blocking(item, broken) is not None:
            return refuse(409, "an unreadable evidence record shares an entity with this triple; "
                               "the graph cannot be changed around it")
        try:
            made = decide(store, schema, bank, item, word, label or None, wrong, reviewer)
        except InputError as exc:
            return refuse(400, str(exc))
        except StoreError as exc:
            return refuse(409, str(exc))
        except (KgbuildError, OSError) as exc:  # the bank cannot be written: nothing was changed
            return refuse(500, " ".join(str(exc).split()))
        return f"{made.decision}: {made.head} / {made.old_label} → {made.label} / {made.tail}"

    async def graph_file(request: Request) -> Response:
        """The graph view (``kgbuild view``) as a download: it runs its own scripts, so it is opened as a file
        under its own policy, never served on this page's origin."""
        if not allowed(request.query_params.get("token")):
            return refuse(403, "a valid token is required")
        html = await locked(lambda: render_view(graph_data(store_facts(store))))
        return Response(html, media_type="text/html",
                        headers={"Content-Disposition": 'attachment; filename="kgbuild-graph.html"'})

    return Starlette(routes=[Route("/", page), Route("/decide", decision, methods=["POST"]),
                             Route("/graph.html", graph_file)],
                     middleware=[Middleware(SecurityHeaders),
                                 Middleware(RequestBodyLimitMiddleware, max_body_size=MAX_BODY)])
