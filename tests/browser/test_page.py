"""The analysts' page in a real browser against a live service and the tiny trained model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver import Chrome
from selenium.webdriver.common.keys import Keys

from stance.intake import add_examples
from tests.service.fakes import ADMIN_TOKEN

from .conftest import PAYLOAD, PAYLOAD_SENTENCE, Site
from .page import Page

pytestmark = pytest.mark.slow

ARTICLE = (
    "KABUL, July 3 (Reuters) - Russia became the first country to formally recognise the "
    "Taliban government. Tashkent said it was in no hurry to follow.\n\n"
    "The resistance front said no foreign capital can lend legitimacy to the regime. "
    "The weather in Kabul was cold and dry on Tuesday."
)
LABEL_KEYS = {"1": "supportive", "2": "cautious", "3": "opposed"}


@pytest.fixture
def page(browser: Chrome, site: Site, screenshots: Path) -> Page:
    return Page(browser, site.url, screenshots)


def analysis(site: Site, text: str) -> dict[str, Any]:
    response = httpx.post(site.url + "/analyze", json={"text": text}, timeout=30)
    assert response.status_code == 200, response.text
    return dict(response.json())


def no_alert(page: Page) -> bool:
    try:
        return not page.driver.switch_to.alert.text
    except NoAlertPresentException:
        return True


def queue_text(page: Page) -> str:
    return page.wait(lambda: page.find_all("#queue-item .queue-text"))[0].text


def test_pasting_an_article_highlights_each_sentence_by_label(page: Page, site: Site) -> None:
    expected = analysis(site, ARTICLE)["sentences"]
    page.open()

    sentences = page.analyze(ARTICLE)

    assert [s.find_element("css selector", ".text").text for s in sentences] == [
        s["text"] for s in expected
    ]
    assert [s.get_attribute("data-label") for s in sentences] == [s["label"] for s in expected]
    for sentence, answer in zip(sentences, expected, strict=True):
        assert f"label-{answer['label']}" in sentence.get_attribute("class")
        assert sentence.find_element("css selector", ".marker").text
    page.screenshot("read", "#read")


def test_a_sentences_scores_show_when_it_has_the_focus(page: Page, site: Site) -> None:
    first = analysis(site, ARTICLE)["sentences"][0]
    page.open()
    page.analyze(ARTICLE)

    focused = page.tab_to("#article-view .sentence")
    tip = focused.find_element("css selector", ".tip")

    assert tip.is_displayed()
    assert tip.text.startswith(f"{first['label']}: ")
    assert f"{first['label']} {first['scores'][first['label']]:.2f}" in tip.text


def test_the_actor_summary_is_a_table_and_a_bar_chart(page: Page, site: Site) -> None:
    actors = analysis(site, ARTICLE)["summary"]["actors"]
    page.open()
    page.analyze(ARTICLE)

    rows = page.find_all("#actor-table tbody tr")
    bars = page.find_all("#actor-chart .chart-row")

    assert actors
    assert [row.find_element("css selector", "th").text for row in rows] == [
        a["actor"] for a in actors
    ]
    assert [bar.find_element("css selector", ".chart-name").text for bar in bars] == [
        a["actor"] for a in actors
    ]
    assert page.find("#summary-line").text.endswith("take a stance.")


def test_html_in_a_sentence_is_shown_as_text_and_runs_nothing(page: Page) -> None:
    page.open()

    sentences = page.analyze(f"The statement read {PAYLOAD} in full. Kabul was quiet.")

    assert PAYLOAD in sentences[0].text
    assert page.find_all("#article-view img") == []
    assert no_alert(page)


@pytest.fixture
def payload_in_the_pool(site: Site) -> Iterator[None]:
    """The queue's pool holds only the sentence with HTML in it, for one test."""
    pool = site.pool.read_text(encoding="utf-8")
    site.pool.write_text(PAYLOAD_SENTENCE + "\n", encoding="utf-8")
    yield
    site.pool.write_text(pool, encoding="utf-8")


@pytest.mark.usefixtures("payload_in_the_pool")
def test_html_in_a_queued_sentence_is_shown_as_text_and_runs_nothing(page: Page) -> None:
    page.open()

    assert queue_text(page) == PAYLOAD_SENTENCE
    assert page.find_all("#queue img") == []
    assert no_alert(page)


def test_three_sentences_labelled_with_the_keys_reach_the_labels_file(
    page: Page, site: Site
) -> None:
    page.open(ADMIN_TOKEN)
    page.tab_to("#token-form button")
    answered = []
    for key, label in LABEL_KEYS.items():
        text = queue_text(page)
        page.keys(key)
        page.wait(lambda text=text: queue_text(page) != text)
        answered.append({"text": text, "label": label})

    added = page.wait_count('#answers [data-state="added"]', len(answered))
    assert all(entry.text.endswith(" — added") for entry in added)
    written = [{"text": e["text"], "label": e["label"]} for e in site.incoming_labels()]
    assert all(answer in written for answer in answered)
    assert "Labelled this session: 3." in page.find("#queue-counter").text
    page.screenshot("queue", "#queue")


def test_a_label_that_conflicts_with_the_corpus_is_shown_on_its_item(
    page: Page, site: Site
) -> None:
    page.open(ADMIN_TOKEN)
    page.tab_to("#token-form button")
    text = queue_text(page)
    add_examples([{"text": text, "label": "opposed"}], site.incoming.parent, site.incoming)

    page.keys("1")

    entry = page.wait_text('#answers [data-state="conflict"]', text)
    assert "opposed" in entry.text


def test_undo_takes_back_an_answer_not_yet_sent(page: Page, site: Site) -> None:
    page.open(ADMIN_TOKEN)
    page.tab_to("#token-form button")
    text = queue_text(page)

    page.keys("2", "u")

    assert queue_text(page) == text
    assert page.find_all("#answers li") == []
    assert "Labelled this session: 0." in page.find("#queue-counter").text


def test_without_a_token_the_page_is_read_only_and_says_why(page: Page, site: Site) -> None:
    page.open()
    queue_text(page)
    before = len(site.incoming_labels())

    page.keys("1")

    assert "STANCE_ADMIN_TOKEN" in page.find("#access").text
    assert all(not b.is_enabled() for b in page.find_all("#queue-buttons button"))
    assert not page.find("#retrain").is_enabled()
    page.wait_text("#queue-status", "Read-only")
    assert len(site.incoming_labels()) == before


def test_a_wrong_token_is_refused_and_the_page_stays_read_only(page: Page) -> None:
    page.open()

    page.find("#token").send_keys("not-the-token" + Keys.ENTER)

    page.wait_text("#access", "refused the token (401)")
    assert not page.find("#retrain").is_enabled()


@pytest.mark.parametrize(
    ("outcome", "shown"),
    [
        ("refuse", "Refused: lower by more than the tolerance"),
        ("fail", "Failed: stance-train exited with code 2: error: 2 problems in the labels"),
    ],
)
def test_a_retrain_shows_its_progress_then_its_outcome(
    page: Page, site: Site, outcome: str, shown: str
) -> None:
    site.hold.unlink(missing_ok=True)
    page.open(ADMIN_TOKEN)
    page.tab_to("#retrain").send_keys(Keys.ENTER)

    page.wait_text("#job-stage", "running")
    assert page.find("#job-progress").is_displayed()
    page.screenshot(f"retrain-running-{outcome}", "#models")
    site.hold.write_text(outcome)

    page.wait_text("#job-outcome", shown)
    assert page.find("#job-progress").get_attribute("value") == "1"
    page.screenshot(f"retrain-{outcome}", "#models")


def test_rolling_back_serves_the_older_version_and_back(page: Page, site: Site) -> None:
    page.open(ADMIN_TOKEN)

    page.tab_to(f'button[aria-label="Roll back to {site.older_version}"]').send_keys(Keys.ENTER)
    page.wait_text("#serving-version", site.older_version)
    page.screenshot("models-rolled-back", "#models")
    page.tab_to(f'button[aria-label="Roll back to {site.version}"]').send_keys(Keys.ENTER)

    page.wait_text("#serving-version", site.version)
    assert site.server.get("/ready").json()["model_version"] == site.version


def test_a_versions_metrics_and_confusion_matrix_open_from_the_keyboard(
    page: Page, site: Site
) -> None:
    page.open(ADMIN_TOKEN)
    row = f'tr[data-version="{site.version}"]'

    page.tab_to(f"{row} summary").send_keys(Keys.ENTER)

    plot = page.wait(lambda: page.find_all(f"{row} .confusion img"))[0]
    page.wait(lambda: page.driver.execute_script("return arguments[0].naturalWidth", plot) > 0)
    assert "macro_f1" in page.find(f"{row} .metrics").text
    page.screenshot("models", "#models")


def test_the_page_asks_nothing_of_another_host(page: Page, site: Site) -> None:
    page.open(ADMIN_TOKEN)
    page.analyze(ARTICLE)
    queue_text(page)

    requested = page.requests()

    assert {site.url + "/", site.url + "/analyze", site.url + "/suggest"} <= set(requested)
    assert [url for url in requested if not url.startswith((site.url, "blob:", "data:"))] == []


INJECT_INLINE_SCRIPT = """
const script = document.createElement("script");
script.textContent = "window.inlineRan = true";
document.body.append(script);
return window.inlineRan === true;
"""


def test_the_browser_refuses_inline_script_on_the_page(page: Page) -> None:
    page.open()

    assert page.driver.execute_script(INJECT_INLINE_SCRIPT) is False


def test_the_page_is_sent_with_a_content_security_policy(site: Site) -> None:
    policy = httpx.get(site.url + "/", timeout=10).headers["content-security-policy"]

    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy
