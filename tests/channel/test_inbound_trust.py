"""Production mode: every request must carry a valid Bot Framework token (botbuilder's own
validation), proven against a local stand-in for the Bot Framework OpenID metadata."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from botframework.connector.auth import MicrosoftAppCredentials
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.cards import visible_text
from tests.connector import StandInConnector
from tests.harness import dev_settings
from tests.service import Service, start_service, stop_service
from tests.teams import TeamsUser

APP_ID = "6d1b3a52-2f7c-4b8e-9a41-0c5e7d2f1a90"
HOME_TENANT = TeamsUser().tenant_id
ISSUER = "https://api.botframework.com"


class OpenIdStandIn:
    """Serves OpenID metadata and a JWKS with one signing key, endorsed for msteams."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = uuid.uuid4().hex
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update(kid=self.kid, use="sig", endorsements=["msteams"])
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.endswith("/openidconfiguration"):
                    body = {
                        "issuer": ISSUER,
                        "jwks_uri": f"{stand_in.base}/keys",
                        "id_token_signing_alg_values_supported": ["RS256"],
                    }
                elif self.path == "/keys":
                    body = {"keys": [jwk]}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.metadata_url = f"{self.base}/v1/.well-known/openidconfiguration"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def token(
        self, service_url: str, *, key: Any = None, kid: str | None = None, **claims: Any
    ) -> str:
        """A token as the Bot Framework would sign it; keyword claims override."""
        now = int(time.time())
        body = {
            "iss": ISSUER,
            "aud": APP_ID,
            "serviceurl": service_url,
            "nbf": now - 60,
            "exp": now + 3600,
            "iat": now - 60,
        }
        body.update(claims)
        return jwt.encode(
            body, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid}
        )

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def openid() -> Iterator[OpenIdStandIn]:
    stand_in = OpenIdStandIn()
    try:
        yield stand_in
    finally:
        stand_in.stop()


@pytest.fixture
async def production(
    database_url: str,
    engine: AsyncEngine,
    openid: OpenIdStandIn,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Service]:
    # The bot's own outbound token would come from Entra ID, which tests cannot reach.
    def fake_token(self: Any, *args: Any, **kwargs: Any) -> str:
        return "outbound-token-from-entra"

    monkeypatch.setattr(MicrosoftAppCredentials, "get_access_token", fake_token)
    settings = dev_settings(
        database_url=database_url,
        app_id=APP_ID,
        app_password="not-used-offline",
        app_tenant_id=HOME_TENANT,
        allowed_tenants=[HOME_TENANT],
        openid_metadata_url=openid.metadata_url,
    )
    assert not settings.development_mode
    service = await start_service(settings, engine)
    try:
        yield service
    finally:
        await stop_service(service)


async def post(service: Service, activity: dict[str, Any], token: str | None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return await service.post(activity, headers=headers)


async def test_a_correctly_signed_token_is_accepted_and_the_reply_is_authorised(
    production: Service, openid: OpenIdStandIn, connector: StandInConnector
) -> None:
    user = TeamsUser()
    activity = user.message("about", connector.url)
    status, _ = await post(production, activity, openid.token(connector.url))
    assert status == 201
    [call] = connector.received
    assert call.authorization == "Bearer outbound-token-from-entra"
    assert "What would you like to know about?" in visible_text(call.activity)


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda o, url: None, id="no-token"),
        pytest.param(lambda o, url: "not.a.jwt", id="garbage"),
        pytest.param(
            lambda o, url: o.token(url, exp=int(time.time()) - 3600, nbf=int(time.time()) - 7200),
            id="expired",
        ),
        pytest.param(
            lambda o, url: o.token(
                url, key=rsa.generate_private_key(public_exponent=65537, key_size=2048)
            ),
            id="signed-by-another-key",
        ),
        pytest.param(lambda o, url: o.token(url, kid="unknown-key"), id="unknown-key-id"),
        pytest.param(lambda o, url: o.token(url, aud="some-other-bot"), id="other-audience"),
        pytest.param(lambda o, url: o.token(url, iss="https://evil.example"), id="other-issuer"),
        pytest.param(lambda o, url: o.token("https://elsewhere.example/"), id="other-service-url"),
        pytest.param(
            lambda o, url: jwt.encode(
                {"iss": ISSUER, "aud": APP_ID, "serviceurl": url, "exp": int(time.time()) + 60},
                "a-shared-secret-of-at-least-32-bytes!",
                algorithm="HS256",
                headers={"kid": o.kid},
            ),
            id="hmac-not-rsa",
        ),
    ],
)
async def test_forged_tokens_get_401_and_nothing_happens(
    production: Service, openid: OpenIdStandIn, connector: StandInConnector, forge: Any
) -> None:
    activity = TeamsUser().message("about", connector.url)
    status, body = await post(production, activity, forge(openid, connector.url))
    assert (status, body) == (401, {"error": "Missing or invalid Bot Framework token."})
    assert connector.received == []


async def test_a_valid_token_from_a_foreign_tenant_is_refused_unprocessed(
    production: Service, openid: OpenIdStandIn, connector: StandInConnector
) -> None:
    outsider = TeamsUser(tenant_id="0d9f6a1e-7777-4c3b-8e2a-5b6c7d8e9f00")
    status, body = await post(
        production, outsider.message("about", connector.url), openid.token(connector.url)
    )
    assert (status, body) == (403, {"error": "This bot does not serve that organisation."})
    assert connector.received == []
