"""``kgbuild review``: a local page to accept, relabel or reject triples; decisions teach the next run."""

from __future__ import annotations

import getpass
import secrets
from typing import Annotated

import typer

from kgbuild.cli._common import app, console, user_errors
from kgbuild.cli._options import with_store_options
from kgbuild.config import PipelineConfig
from kgbuild.errors import ConfigError


@app.command()
@with_store_options
def review(
    port: Annotated[int, typer.Option("--port", help="port on --host")] = 8765,
    host: Annotated[str, typer.Option("--host", help="address to bind; the default keeps the page on this "
                                      "machine")] = "127.0.0.1",
    reviewer: Annotated[str | None, typer.Option("--reviewer", help="name stored with each decision "
                                                 "(default: your login)")] = None,
    *,
    config: PipelineConfig,
) -> None:
    """Serve the review page until Ctrl+C. The URL printed holds this run's token."""
    import uvicorn

    from kgbuild.web.review_app import review_app
    from kgbuild.workflows.graph_ops import opened_store

    with user_errors():
        bank = config.corrections_path()
        if bank is None:
            raise ConfigError("the pipeline has no correction bank (retriever.corrections is null)")
        token = secrets.token_urlsafe(24)
        with opened_store(config, read_only=False) as store:
            web = review_app(store, config.load_schema(), bank, token, reviewer or getpass.getuser())
            console.print(f"review page: http://{host}:{port}/?token={token}", soft_wrap=True, highlight=False)
            console.print(f"decisions are appended to {bank}", soft_wrap=True, highlight=False)
            uvicorn.run(web, host=host, port=port, log_level="warning")
