"""Driving the analysts' page the way a keyboard user does, and waiting on what it shows."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar, cast

from selenium.webdriver import Chrome
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

WAIT_S = 30
MATCHES = "return arguments[0].matches(arguments[1])"
T = TypeVar("T")


class Page:
    def __init__(self, driver: Chrome, url: str, screenshots: Path) -> None:
        self.driver = driver
        self.url = url
        self.screenshots = screenshots

    def open(self, token: str | None = None, path: str = "/") -> None:
        """Load the page in a tab with no stored token; enter ``token`` if one is given."""
        self.driver.get(self.url + path)
        self.driver.execute_script("sessionStorage.clear()")
        self.requests()
        self.driver.refresh()
        if path != "/":
            return
        self.wait_text("#access", "Read-only")
        if token is not None:
            self.find("#token").send_keys(token + Keys.ENTER)
            self.wait_text("#access", "Admin:")

    def find(self, selector: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def find_all(self, selector: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def wait(self, condition: Callable[[], T], timeout_s: float = WAIT_S) -> T:
        return WebDriverWait(self.driver, timeout_s).until(lambda _: condition())

    def wait_text(self, selector: str, text: str, timeout_s: float = WAIT_S) -> WebElement:
        def shown() -> WebElement | bool:
            found = [e for e in self.find_all(selector) if text in e.text]
            return found[0] if found else False

        return cast(WebElement, self.wait(shown, timeout_s))

    def wait_count(self, selector: str, count: int) -> list[WebElement]:
        def counted() -> list[WebElement]:
            found = self.find_all(selector)
            return found if len(found) == count else []

        return self.wait(counted)

    def keys(self, *keys: str) -> None:
        """Press keys in whatever has the focus, as a keyboard user would."""
        actions = ActionChains(self.driver)
        for key in keys:
            actions.send_keys(key)
        actions.perform()

    def tab_to(self, selector: str, limit: int = 60) -> WebElement:
        """Press Tab until the element matching ``selector`` has the focus."""
        for _ in range(limit):
            active = self.driver.switch_to.active_element
            if self.driver.execute_script(MATCHES, active, selector):
                return active
            self.keys(Keys.TAB)
        raise AssertionError(f"{selector} not reached with {limit} Tabs")

    def analyze(self, article: str) -> list[WebElement]:
        field = self.find("#article")
        field.clear()
        field.send_keys(article)
        field.send_keys(Keys.CONTROL, Keys.ENTER)
        self.wait_text("#read-status", "model ")
        return self.find_all("#article-view .sentence")

    def screenshot(self, name: str, selector: str = "body") -> Path:
        """A picture of one part of the page (the whole page by default)."""
        path = self.screenshots / f"{name}.png"
        self.find(selector).screenshot(str(path))
        return path

    def requests(self) -> list[str]:
        """URLs the page asked for since the last call (chromium's network log)."""
        urls = []
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.requestWillBeSent":
                urls.append(message["params"]["request"]["url"])
        return urls
