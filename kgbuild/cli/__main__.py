"""``python -m kgbuild.cli``: the same command line as the ``kgbuild`` script."""

from kgbuild.cli import app

app()
