"""``kgbuild review``: a local page to accept, relabel or reject triples; decisions teach the next run."""

from __future__ import annotations

import getpass
import ipaddress
import secrets
from typing import Annotated

import typer

from kgbuild.cli._common import app, console, err, user_errors, visible
from kgbuild.cli._options import with_store_options
from kgbuild.config import PipelineConfig
from kgbuild.errors import ConfigError


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the page on this machine: ``localhost``, 127.0.0.0/8 or ::1."""
    if host.lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # any other name may resolve to an outside address
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def check_binding(host: str, port: int, allow_remote: bool) -> None:
    """Refuse a port outside 1..65535, and an address other than loopback unless ``allow_remote``."""
    if not 1 <= port <= 65535:
        raise ConfigError(f"--port {port} is not a TCP port (1 to 65535)")
    if not host:
        raise ConfigError("--host is empty; give an address, such as 127.0.0.1")
    if not is_loopback(host) and not allow_remote:
        raise ConfigError(f"--host {host} would serve the review page beyond this machine, its token over plain "
                          "HTTP; pass --allow-remote to do so anyway, or keep the default 127.0.0.1")


@app.command()
@with_store_options
def review(
    port: Annotated[int, typer.Option("--port", help="port on --host (1 to 65535)")] = 8765,
    host: Annotated[str, typer.Option("--host", help="address to bind; the default keeps the page on this "
                                      "machine, anything but loopback needs --allow-remote")] = "127.0.0.1",
    allow_remote: Annotated[bool, typer.Option("--allow-remote", help="allow a --host other than loopback; the "
                                               "token then travels over plain HTTP")] = False,
    reviewer: Annotated[str | None, typer.Option("--reviewer", help="name stored with each decision "
                                                 "(default: your login)")] = None,
    *,
    config: PipelineConfig,
) -> None:
    """Serve the review page until Ctrl+C. The URL printed holds this run's token."""
    with user_errors():
        if host.startswith("[") and host.endswith("]"):  # an IPv6 address as written in a URL
            host = host[1:-1]
        check_binding(host, port, allow_remote)

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
            if not is_loopback(host):
                err.print(f"warning: the review page is served on {visible(host)}, beyond this machine, over plain "
                          "HTTP: anyone who can see the traffic can read the token in its URL and change the graph. "
                          "Use it only on a network you trust.", soft_wrap=True, highlight=False, markup=False)
            url = f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"
            console.print(f"review page: {visible(url)}?token={token}", soft_wrap=True, highlight=False, markup=False)
            console.print(f"decisions are appended to {bank}", soft_wrap=True, highlight=False, markup=False)
            uvicorn.run(web, host=host, port=port, log_level="warning")
