"""The local review page (``kgbuild review``): a Starlette app with Jinja templates and plain forms."""
