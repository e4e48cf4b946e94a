"""Browser tests: Debian's chromium driven by selenium, against one live service.

One service and one headless browser serve the whole session. The service runs the
session's tiny trained model beside an older tiny random version (to roll back to), ranks a
small pool for the label queue, names actors from the repository's gazetteer, and retrains
with the fake ``stance-train`` of the retrain tests, held until a test lets it finish.
Screenshots of each screen go to ``build/browser-screenshots/`` (named at the end of the run;
``build/`` is git-ignored).
"""

from __future__ import annotations

import json
import shutil
import stat
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from stance import actors
from stance.registry import ModelStore
from tests.live import LiveServer, start_service
from tests.service.fakes import ADMIN_TOKEN

if TYPE_CHECKING:
    from tests.conftest import TrainedStore

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
INSTALL = "apt-get install -y chromium chromium-driver"
"""As root; ``make test`` runs it itself where it can."""
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1600",
)
"""Without the background-networking flags chromium keeps trying hosts the closed network
refuses."""
OLDER_VERSION = "20250101T000000Z-00000000"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "browser-screenshots"
PAYLOAD = "<img src=x onerror=alert(1)>"
PAYLOAD_SENTENCE = f"A statement read {PAYLOAD} before the talks in Kabul."
POOL = [
    "Tashkent said it would not rush to recognise the Taliban administration.",
    "Minsk welcomed the Taliban envoy and called for full diplomatic relations.",
    "The resistance front said no capital can lend legitimacy to an imposed regime.",
    "Ankara kept its embassy in Kabul open but said recognition was not on the table.",
    "Beijing accepted the credentials of the Taliban ambassador in a ceremony.",
    "The European Union said engagement does not amount to recognition.",
    "Tehran said any recognition depends on an inclusive government in Kabul.",
    "Washington warned that recognising the Taliban would reward repression.",
    "Islamabad urged the world to deal with the authorities in Kabul as they are.",
    "New Delhi said it would wait for a consensus at the United Nations.",
    "Women's groups condemned any move to normalise relations with the Taliban.",
    "Doha hosted a meeting of special envoys on Afghanistan on Monday.",
    "A statement read <img src=x onerror=alert(1)> before the talks in Kabul.",
    "Moscow removed the Taliban from its list of banned organisations.",
    "Dushanbe refused to recognise a government that excludes the Tajik minority.",
    "Kazakhstan said it would decide on recognition with its Central Asian partners.",
]


@dataclass(frozen=True)
class Site:
    """The live service and what the tests look at behind it."""

    server: LiveServer
    models_dir: Path
    incoming: Path
    pool: Path
    hold: Path
    version: str
    older_version: str

    @property
    def url(self) -> str:
        return self.server.url

    def incoming_labels(self) -> list[dict[str, Any]]:
        if not self.incoming.exists():
            return []
        return [json.loads(line) for line in self.incoming.read_text().splitlines() if line]


@pytest.fixture(scope="session")
def site(
    tmp_path_factory: pytest.TempPathFactory,
    trained_store: TrainedStore,
    small_labels_dir: Path,
    repo_root: Path,
    artifact_factory: Callable[..., Path],
) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("browser_site")
    store = ModelStore(root / "models")
    shutil.copytree(trained_store.path, store.root / trained_store.version)
    artifact_factory(store.root, OLDER_VERSION, macro_f1=0.25)
    store.set_current(trained_store.version)
    labels_dir = Path(shutil.copytree(small_labels_dir, root / "labels"))
    shutil.copy(repo_root / "labels" / actors.FILE_NAME, labels_dir)
    pool = root / "pool.txt"
    pool.write_text("\n".join(POOL) + "\n", encoding="utf-8")
    hold = root / "let-the-retrain-finish"
    settings = {
        "models_dir": str(store.root),
        "labels_dir": str(labels_dir),
        "incoming_labels": str(labels_dir / "incoming.jsonl"),
        "suggest_pool": str(pool),
        "admin_token": ADMIN_TOKEN,
        "retrain_command": str(fake_trainer(root)),
        "retrain_args": f"--outcome refuse --version 20991231T000000Z-refused --hold {hold}",
        "reload_interval_s": "0",
        "threads": "1",
    }
    server = start_service(settings, root / "server.log")
    try:
        yield Site(
            server,
            store.root,
            labels_dir / "incoming.jsonl",
            pool,
            hold,
            trained_store.version,
            OLDER_VERSION,
        )
    finally:
        server.stop()


def fake_trainer(root: Path) -> Path:
    script = root / "bin" / "stance-train"
    script.parent.mkdir()
    trainer = Path(__file__).parent.parent / "retrain" / "fake_trainer.py"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{trainer}" "$@"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def require_browser(*paths: Path) -> None:
    """Fail, never skip, when the browser is missing, naming the command that installs it."""
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        pytest.fail(f"{' and '.join(missing)} not found: install them with `{INSTALL}` as root")


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    """Headless chromium with a fresh profile; a missing browser fails the test with the
    command that installs it (``make test`` runs it where it can)."""
    require_browser(CHROMIUM, CHROMEDRIVER)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """The folder the screenshots go to, emptied first so that it shows this run only."""
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    _this_run.append(SCREENSHOTS)
    return SCREENSHOTS


_this_run: list[Path] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for folder in _this_run:
        terminalreporter.write_line(f"browser screenshots: {folder}")
