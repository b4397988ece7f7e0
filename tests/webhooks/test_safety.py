"""SSRF refusals, secret handling and rotation. No request leaves loopback: other ranges
are checked at creation (where nothing is sent) or through the address check itself."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager

from app.main import create_app
from app.settings import Settings
from app.webhooks import sender
from app.webhooks.address import is_public, resolve
from tests.fixtures.app import ADMIN_SECRET, Api
from tests.webhooks.conftest import CREATE, create_webhook, publish, setup_world
from tests.webhooks.receiver import Receiver, Reply

ROTATE = """mutation($id: ID!, $s: Int) {
  rotateWebhookSecret(id: $id, overlapSeconds: $s) { secret webhook { previousSecretExpiresAt } }
}"""


@pytest.fixture
async def strict_api(database_url: str) -> AsyncIterator[Api]:
    """The default: private addresses refused."""
    settings = Settings(database_url=database_url, admin_token=ADMIN_SECRET)  # type: ignore[arg-type]
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield Api(http, app)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://[::1]/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://172.16.5.5/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[fe80::1]/hook",
        "http://100.100.100.200/hook",
        "http://224.0.0.1/hook",
        "http://0.0.0.0/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://localhost:8080/hook",
        "ftp://example.com/hook",
        "http:///nohost",
        "http://user:pw@example.com/hook",
    ],
)
async def test_refused_at_creation(strict_api: Api, url: str) -> None:
    body = await strict_api.graphql(CREATE, {"input": {"url": url}})
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["path"] == ["createWebhook"]
    webhooks = await strict_api.ok("{ webhooks { id } }")
    assert webhooks["webhooks"] == []


async def test_rest_refusal_is_a_400_envelope(strict_api: Api) -> None:
    response = await strict_api.http.post(
        "/v1/admin/webhooks",
        json={"url": "http://127.0.0.1/hook"},
        headers={"Authorization": f"Bearer {ADMIN_SECRET}"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BAD_USER_INPUT"
    assert response.json()["error"]["path"] == "input.url"


def test_address_check() -> None:
    refused = ["127.0.0.1", "10.0.0.1", "169.254.169.254", "fd00:ec2::254", "::1", "fe80::1"]
    refused += ["100.64.0.1", "239.1.1.1", "::ffff:10.0.0.1", "2002:0a00:0001::1", "0.0.0.0"]  # noqa: S104
    for address in refused:
        assert not is_public(ipaddress.ip_address(address)), address
    for address in ["93.184.216.34", "2606:4700::1111", "8.8.8.8"]:
        assert is_public(ipaddress.ip_address(address)), address


async def test_refused_again_at_delivery_time(receiver: Receiver) -> None:
    """A name that resolved to a public address at creation may point inwards later: the
    check runs before every attempt, and the refused request is never sent."""
    async with sender.new_client() as client:
        outcome = await sender.post(
            client, url=receiver.url, body="{}", headers={}, time_limit=2, allow_private=False
        )
    assert outcome.status_code is None
    assert outcome.error is not None
    assert outcome.error.startswith("refused:")
    await asyncio.sleep(0.1)
    assert receiver.received == []


async def test_secret_never_reaches_the_log(
    api: Api, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # (aiosqlite's DEBUG lines carry SQL parameters)
    await setup_world(api)
    _, secret = await create_webhook(api, receiver)
    receiver.plan = [Reply(500, body=secret.encode()), Reply(400)]  # failures are logged
    await publish(api, "market", {"data": 1}, {"data": 2})
    await receiver.wait_for(3)
    await asyncio.sleep(0.3)
    assert caplog.records  # something was logged
    assert secret.removeprefix("whsec_") not in caplog.text


async def test_secret_is_shown_once(api: Api, receiver: Receiver) -> None:
    await setup_world(api)
    webhook_id, secret = await create_webhook(api, receiver)
    listed = await api.http.get(
        "/v1/admin/webhooks", headers={"Authorization": f"Bearer {ADMIN_SECRET}"}
    )
    one = await api.http.get(
        f"/v1/admin/webhooks/{webhook_id}", headers={"Authorization": f"Bearer {ADMIN_SECRET}"}
    )
    graphql = await api.graphql("{ webhooks { id url filter description } }")
    for text in (listed.text, one.text, str(graphql)):
        assert secret not in text
        assert secret.removeprefix("whsec_") not in text


async def test_rotation_signs_with_both_secrets_during_the_overlap(
    api: Api, receiver: Receiver
) -> None:
    await setup_world(api)
    webhook_id, old = await create_webhook(api, receiver)
    rotated = await api.ok(ROTATE, {"id": webhook_id, "s": 3600})
    new = rotated["rotateWebhookSecret"]["secret"]
    assert new.startswith("whsec_")
    assert new != old
    assert rotated["rotateWebhookSecret"]["webhook"]["previousSecretExpiresAt"] is not None
    receiver.secrets = [old, new]  # every request must verify with each
    await publish(api, "market", {"data": 1})
    [got] = await receiver.wait_for(1)
    assert len(got.headers["webhook-signature"].split(" ")) == 2

    ended = await api.ok(ROTATE, {"id": webhook_id, "s": 0})
    newest = ended["rotateWebhookSecret"]["secret"]
    receiver.secrets = [newest]
    await publish(api, "market", {"data": 2})
    _, second = await receiver.wait_for(2)
    assert not receiver.verified_by(second, new)
    assert len(second.headers["webhook-signature"].split(" ")) == 1


async def test_overlap_bounds(api: Api, receiver: Receiver) -> None:
    await setup_world(api)
    webhook_id, _ = await create_webhook(api, receiver)
    code = await api.error_code(ROTATE, {"id": webhook_id, "s": -1})
    assert code == "BAD_USER_INPUT"


async def test_the_request_names_the_url_host_and_path(receiver: Receiver) -> None:
    """Sent to the checked address, with the URL's host and port in ``Host`` (not the
    address), its path, the body and the given headers; the status and the body back."""
    base = receiver.url.removesuffix("/hook").replace("127.0.0.1", "localhost")
    url = base + "/in%20box/é?x=1"
    if str((await resolve(url, allow_private=True)).addresses[0]) != "127.0.0.1":
        pytest.skip("localhost does not resolve to 127.0.0.1 first here")
    async with sender.new_client() as client:
        outcome = await sender.post(
            client,
            url=url,
            body='{"a": 1}',
            headers={"webhook-id": "msg_1"},
            time_limit=2,
            allow_private=True,
        )
    assert (outcome.status_code, outcome.response, outcome.error) == (200, "ok", None)
    [got] = receiver.received
    assert got.headers["host"] == base.removeprefix("http://")
    assert got.path == "/in box/é"
    assert got.body == b'{"a": 1}'
    assert got.headers["webhook-id"] == "msg_1"
    assert got.headers["content-type"] == "application/json"
