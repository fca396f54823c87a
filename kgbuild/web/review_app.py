"""The review page. Local by design: bound to 127.0.0.1 by the CLI, and every request must carry the
per-run token (in the URL for the page, in the form for a decision), compared in constant time.
Templates autoescape, so document text (entity names included) is always shown as text.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from kgbuild.errors import KgbuildError
from kgbuild.graph.store import GraphStore
from kgbuild.schema import RelationSchema
from kgbuild.workflows.review import decide, review_items

TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                        autoescape=select_autoescape(default=True, default_for_string=True))
PAGE_SIZE = 200


def review_app(store: GraphStore, schema: RelationSchema, bank: Path, token: str, reviewer: str) -> Starlette:
    def allowed(given: str | None) -> bool:
        return given is not None and secrets.compare_digest(given.encode(), token.encode())

    async def page(request: Request) -> Response:
        if not allowed(request.query_params.get("token")):
            return PlainTextResponse("a valid token is required (see the URL kgbuild review printed)", 403)
        items = review_items(store)
        html = TEMPLATES.get_template("review.html").render(
            items=items[:PAGE_SIZE], total=len(items), token=token, labels=schema.all_labels,
            no_relation=schema.no_relation, bank=str(bank), message=request.query_params.get("message", ""))
        return HTMLResponse(html)

    async def decision(request: Request) -> Response:
        form = await request.form()
        given = form.get("token")
        if not allowed(given if isinstance(given, str) else None):
            return PlainTextResponse("a valid token is required", 403)
        wanted = str(form.get("id", ""))
        item = next((i for i in review_items(store) if i.id == wanted), None)
        if item is None:
            message = "that triple is no longer in the graph"
        else:
            try:
                made = decide(store, schema, bank, item, str(form.get("decision", "")),
                              str(form.get("label") or "") or None, str(form.get("wrong", "")), reviewer)
                message = f"{made.decision}: {made.head} / {made.old_label} → {made.label} / {made.tail}"
            except KgbuildError as exc:
                message = str(exc)
        query = urlencode({"token": token, "message": message})
        return RedirectResponse(f"/?{query}", status_code=303)

    return Starlette(routes=[Route("/", page), Route("/decide", decision, methods=["POST"])])
