"""GraphiQL (``/graphql``) and Swagger UI (``/docs``) in a real headless Chromium (Debian's
package, driven by selenium through Debian's chromedriver) against a real ``eventgraph
serve``, with every address but 127.0.0.1 unreachable: the pages must work offline."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from tests.fixtures.app import ADMIN_SECRET
from tests.fixtures.server import metric

# Starting a server and a browser on a loaded 2-core machine can take minutes.
pytestmark = pytest.mark.timeout(400)

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ADMIN = {"Authorization": f"Bearer {ADMIN_SECRET}"}
# Set EVENTGRAPH_SCREENSHOTS=<dir> to keep what the browser showed.
SCREENSHOTS = os.environ.get("EVENTGRAPH_SCREENSHOTS")


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.fail("install Debian's chromium and chromium-driver (.ci/run does: apt-get)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,900",
        f"--user-data-dir={tmp_path / 'profile'}",
        # Offline but for this machine: no name resolves, and whatever is not 127.0.0.1 goes
        # to a proxy that refuses every connection (port 9 has no listener).
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--proxy-server=http://127.0.0.1:9",
        "--proxy-bypass-list=127.0.0.1",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def _requested_hosts(driver: webdriver.Chrome) -> set[str]:
    hosts = set()
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            url = urlsplit(message["params"]["request"]["url"])
            if url.scheme in ("http", "https", "ws", "wss"):
                hosts.add(url.hostname or "")
    return hosts


def _screenshot(driver: webdriver.Chrome, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(SCREENSHOTS) / name))


def _publish(server: str) -> str:
    with httpx.Client(base_url=server, headers=ADMIN, timeout=10) as http:
        http.post("/api/v1/workspaces", json={"id": "acme", "name": "Acme"}).raise_for_status()
        http.post(
            "/api/v1/channels", json={"id": "news", "name": "News", "workspaceId": "acme"}
        ).raise_for_status()
        published = http.post("/api/v1/channels/news/events", json={"data": {"hello": "world"}})
        published.raise_for_status()
        event_id: str = published.json()["id"]
        return event_id


def _subscribers(server: str) -> float:
    return metric(server, "eventgraph_stream_subscribers")


def _response_showing(driver: webdriver.Chrome, text: str) -> WebElement:
    """GraphiQL's result pane, once it shows ``text``."""
    return WebDriverWait(driver, 60).until(
        lambda d: (
            d.find_element(By.CSS_SELECTOR, ".graphiql-response")
            if text in d.find_element(By.CSS_SELECTOR, ".graphiql-response").text
            else None
        )
    )


def _set_editor(driver: webdriver.Chrome, selector: str, text: str) -> None:
    """Types into one of GraphiQL's CodeMirror editors (as a user pasting text would)."""
    driver.execute_script(
        "document.querySelector(arguments[0]).CodeMirror.setValue(arguments[1])", selector, text
    )


def test_graphiql_runs_a_query_offline(server: str, browser: webdriver.Chrome) -> None:
    event_id = _publish(server)
    browser.get(f"{server}/graphql")
    wait = WebDriverWait(browser, 60)
    run = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, ".graphiql-execute-button"))
    run.click()  # the default query lists public events, which need no token
    response = _response_showing(browser, event_id)
    assert '"hello": "world"' in response.text
    _screenshot(browser, "graphiql.png")
    assert _requested_hosts(browser) == {"127.0.0.1"}


def test_graphiql_runs_a_subscription_offline(server: str, browser: webdriver.Chrome) -> None:
    """A subscription over the graphql-transport-ws WebSocket, on a private channel: the token
    typed under Headers must reach the server in ``connection_init``."""
    with httpx.Client(base_url=server, headers=ADMIN, timeout=10) as http:
        http.post("/api/v1/workspaces", json={"id": "acme", "name": "Acme"}).raise_for_status()
        http.post(
            "/api/v1/channels",
            json={"id": "ops", "name": "Ops", "workspaceId": "acme", "private": True},
        ).raise_for_status()
    browser.get(f"{server}/graphql")
    wait = WebDriverWait(browser, 60)
    run = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, ".graphiql-execute-button"))
    _set_editor(
        browser,
        ".graphiql-query-editor .CodeMirror",
        "subscription Live {\n  events { id type channelId data }\n}\n",
    )
    # The second secondary editor is Headers (the first is Variables).
    _set_editor(
        browser,
        ".graphiql-editor-tool .graphiql-editor:nth-of-type(2) .CodeMirror",
        json.dumps(ADMIN),
    )
    before = _subscribers(server)
    run.click()
    # Publish only once the subscription is open (it starts at the tail's position).
    wait.until(lambda _: _subscribers(server) > before)
    with httpx.Client(base_url=server, headers=ADMIN, timeout=10) as http:
        published = http.post(
            "/api/v1/channels/ops/events", json={"type": "live.one", "data": {"n": 1}}
        )
        published.raise_for_status()
    event_id = published.json()["id"]
    response = _response_showing(browser, event_id)
    assert '"live.one"' in response.text
    _screenshot(browser, "graphiql-subscription.png")
    assert _requested_hosts(browser) == {"127.0.0.1"}


def test_swagger_ui_lists_the_routes_offline(server: str, browser: webdriver.Chrome) -> None:
    browser.get(f"{server}/docs")
    wait = WebDriverWait(browser, 60)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock-summary-path"))
    paths = {
        element.get_attribute("data-path")
        for element in browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")
    }
    assert {
        "/api/events",
        "/v1/admin/events/replay",
        "/api/v1/channels/{channelId}/events",
        "/api/v1/channels/{channelId}/events/{eventId}",
        "/healthz",
    } <= paths
    _screenshot(browser, "docs.png")
    assert _requested_hosts(browser) == {"127.0.0.1"}
