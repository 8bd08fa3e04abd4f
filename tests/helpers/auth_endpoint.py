"""The web app's side of authorization: the endpoints pusher-js and laravel-echo POST to.

pusher-js asks an HTTP endpoint for a signature before it subscribes to a private,
presence or encrypted channel (form fields ``socket_id`` and ``channel_name``) and
before ``pusher.signin()`` (form field ``socket_id``). :class:`AuthEndpoint` answers
those requests the way a real back end does, with the pusher SDK's own
``authenticate`` and ``authenticate_user``, from a thread of the test process.

Who is asking is named by the ``X-Opbx-User`` header (what a session cookie does in
a real app); :data:`USERS` are the known users. Two channel-name conventions let a
test provoke refusals: a name containing ``denied`` is answered 403, and one
containing ``forged`` gets a signature made with the wrong secret (which the
realtime server must reject).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pusher

__all__ = [
    "CHANNEL_AUTH_PATH",
    "USERS",
    "USER_AUTH_PATH",
    "USER_HEADER",
    "AuthEndpoint",
    "AuthRequest",
    "presence_data",
    "presence_info",
    "user_data",
]

CHANNEL_AUTH_PATH = "/pusher/auth"
USER_AUTH_PATH = "/pusher/user-auth"
USER_HEADER = "X-Opbx-User"

USERS: dict[str, str] = {
    "1": "Ada Lovelace",
    "2": "Grace Hopper",
    "3": "Edsger Dijkstra",
    "alice": "Alice",
    "bob": "Bob",
}
"""Known users: id to name. Numeric ids are sent as integers, as Laravel does."""


def _wire_id(user: str) -> int | str:
    return int(user) if user.isdigit() else user


def presence_info(user: str) -> dict[str, Any]:
    """The ``user_info`` of ``user`` on a presence channel (what Echo's here/joining/leaving report)."""
    return {"id": _wire_id(user), "name": USERS[user]}


def presence_data(user: str) -> dict[str, Any]:
    """The presence ``channel_data`` the endpoint signs for ``user``."""
    return {"user_id": _wire_id(user), "user_info": presence_info(user)}


def user_data(user: str) -> dict[str, Any]:
    """The ``user_data`` the endpoint signs at sign-in (pusher-js needs a string ``id``)."""
    return {"id": user, "user_info": {"name": USERS[user]}}


@dataclass(frozen=True, slots=True)
class AuthRequest:
    """One request the endpoint answered."""

    path: str
    user: str | None
    form: dict[str, str]
    status: int


class AuthEndpoint:
    """A threaded HTTP server answering pusher-js's channel authorization and user sign-in."""

    def __init__(self, sdk: pusher.Pusher, *, forger: pusher.Pusher) -> None:
        """``sdk`` signs; ``forger`` is the same app with a wrong secret (for ``forged`` channels)."""
        self.sdk = sdk
        self.forger = forger
        self.requests: list[AuthRequest] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="auth-endpoint", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def channel_auth_url(self) -> str:
        return self.base_url + CHANNEL_AUTH_PATH

    @property
    def user_auth_url(self) -> str:
        return self.base_url + USER_AUTH_PATH

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def channels_authorized(self) -> list[str]:
        """Channel names of the channel-authorization requests, in the order they came."""
        return [r.form.get("channel_name", "") for r in self.requests if r.path == CHANNEL_AUTH_PATH]

    # -- answering ------------------------------------------------------------

    def answer(self, path: str, user: str | None, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """The status and JSON body for one POST."""
        if user not in USERS:
            return 403, {"error": f"unknown user {user!r}"}
        socket_id = form.get("socket_id", "")
        if path == USER_AUTH_PATH:
            return 200, self.sdk.authenticate_user(socket_id, user_data(user))
        if path != CHANNEL_AUTH_PATH:
            return 404, {"error": f"no route {path}"}
        channel = form.get("channel_name", "")
        if "denied" in channel:
            return 403, {"error": f"{user} may not join {channel}"}
        signer = self.forger if "forged" in channel else self.sdk
        custom_data = presence_data(user) if channel.startswith("presence-") else None
        body: dict[str, Any] = signer.authenticate(channel, socket_id, custom_data)
        secret = body.get("shared_secret")
        if isinstance(secret, bytes):  # the SDK returns the encrypted channel's key as base64 bytes
            body["shared_secret"] = secret.decode("ascii")
        return 200, body

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                form = {key: values[0] for key, values in parse_qs(raw, keep_blank_values=True).items()}
                user = self.headers.get(USER_HEADER)
                try:
                    status, body = endpoint.answer(self.path, user, form)
                except Exception as exc:
                    endpoint.errors.append(f"{self.path} {form}: {exc!r}")
                    status, body = 500, {"error": repr(exc)}
                with endpoint._lock:
                    endpoint.requests.append(AuthRequest(self.path, user, form, status))
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the requests are recorded in endpoint.requests

        return Handler
