"""Debian's headless Chromium driven by Selenium, for the browser tests and the view benchmark."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1400,900")


class BrowserUnavailable(RuntimeError):
    pass


def headless_chromium(profile: Path | None = None) -> Any:
    """A Selenium Chrome driver on Chromium (``profile``: a fresh user-data folder). tests/run.sh installs
    Debian's ``chromium`` and ``chromium-driver``."""
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver_path):
        raise BrowserUnavailable("chromium and chromedriver are needed (tests/run.sh installs Debian's packages)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*FLAGS, *([f"--user-data-dir={profile}"] if profile is not None else [])):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(driver_path), options=options)
