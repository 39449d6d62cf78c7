"""A minimal OpenID Connect provider for tests, run as its own process: discovery document, JWKS,
an authorize endpoint that signs in whoever the test chose and redirects back with a code, and a
token endpoint that checks the client's secret and the PKCE verifier and issues an RS256-signed
id_token (joserfc).

`python -m tests.ui.oidc_provider --client-id ID --client-secret SECRET` prints its port on the
first line of stdout. A test sets the next sign-in with `POST /_test/next` (JSON: `sub`, `email`,
`email_verified`, and to misbehave `iss`, `aud`, `nonce` or `foreign_key`) and reads what the
token endpoint saw with `GET /_test/last`.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey


class _Provider:
    def __init__(self, client_id: str, client_secret: str) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig"})
        self.foreign = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig"})
        self.issuer = ""
        self.next: dict[str, Any] = {}
        self.codes: dict[str, dict[str, Any]] = {}
        self.last: dict[str, Any] = {}
        self.lock = threading.Lock()

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }

    def authorize(self, query: dict[str, str]) -> tuple[int, str]:
        """A redirect to the client with a code (or an error, for a wrong client or no PKCE)."""
        redirect = query.get("redirect_uri", "")
        if query.get("client_id") != self.client_id or not redirect:
            return 400, "unknown client"
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            error = {"error": "invalid_request", "state": query.get("state", "")}
            return 302, f"{redirect}?{urlencode(error)}"
        code = secrets.token_urlsafe(16)
        with self.lock:
            self.codes[code] = {
                "nonce": query.get("nonce"),
                "challenge": query["code_challenge"],
                "redirect_uri": redirect,
                "who": dict(self.next),
            }
        return 302, f"{redirect}?{urlencode({'code': code, 'state': query.get('state', '')})}"

    def token(self, form: dict[str, str], authorization: str) -> tuple[int, dict[str, Any]]:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if authorization.startswith("Basic "):
            raw = base64.b64decode(authorization[6:]).decode()
            client_id, _, secret = raw.partition(":")
        if client_id != self.client_id or secret != self.client_secret:
            return 401, {"error": "invalid_client"}
        with self.lock:
            grant = self.codes.pop(form.get("code", ""), None)
        verifier = form.get("code_verifier", "")
        digest = hashlib.sha256(verifier.encode()).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        self.last = {"code_verifier_sent": bool(verifier), "known_code": grant is not None}
        if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
            return 400, {"error": "invalid_grant"}
        if challenge != grant["challenge"]:
            self.last["pkce"] = "mismatch"
            return 400, {"error": "invalid_grant", "error_description": "PKCE"}
        self.last["pkce"] = "S256 verified"
        who = grant["who"]
        now = int(time.time())
        claims = {
            "iss": who.get("iss", self.issuer),
            "aud": who.get("aud", self.client_id),
            "sub": who.get("sub", "nobody"),
            "iat": now,
            "exp": now + 300,
            "nonce": who.get("nonce", grant["nonce"]),
        }
        for name in ("email", "email_verified", "azp"):
            if name in who:
                claims[name] = who[name]
        key = self.foreign if who.get("foreign_key") else self.key
        id_token = jwt.encode({"alg": "RS256", "kid": "test-key"}, claims, key)
        access = secrets.token_urlsafe(16)
        return 200, {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": id_token,
        }


def _handler(provider: _Provider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def _send(self, status: int, body: Any = None, location: str | None = None) -> None:
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            if location is not None:
                self.send_header("Location", location)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length", "0")))

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path == "/.well-known/openid-configuration":
                self._send(200, provider.discovery())
            elif url.path == "/jwks":
                self._send(200, KeySet([provider.key]).as_dict(private=False))
            elif url.path == "/authorize":
                status, target = provider.authorize(query)
                if status == 302:
                    self._send(302, location=target)
                else:
                    self._send(status, {"error": target})
            elif url.path == "/_test/last":
                self._send(200, provider.last)
            else:
                self._send(404, {"error": "not_found"})

        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            if path == "/token":
                form = {k: v[0] for k, v in parse_qs(self._body().decode()).items()}
                status, body = provider.token(form, self.headers.get("Authorization", ""))
                self._send(status, body)
            elif path == "/_test/next":
                provider.next = json.loads(self._body() or b"{}")
                self._send(204)
            else:
                self._send(404, {"error": "not_found"})

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", required=True)
    args = parser.parse_args()
    provider = _Provider(args.client_id, args.client_secret)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    provider.issuer = f"http://127.0.0.1:{server.server_address[1]}"
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
