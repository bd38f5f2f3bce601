"""What protects the lab from bad requests: body size, other web sites, unknown hosts.

The lab has no login, so it only trusts the browser tab it served itself:
- a request body larger than `max_body` bytes is refused with 413 before it is all read
  (FastAPI's own `max_body_size` answers in plain text; every answer of this API is JSON);
- a POST whose Origin is another site (a page on the internet making your browser talk to
  127.0.0.1) is refused with 403;
- on the loopback address, a request whose Host is not localhost is refused with 421, so a
  web site cannot reach the lab by pointing its own name at 127.0.0.1 (DNS rebinding);
- every answer says the pages load nothing from anywhere else (Content-Security-Policy).
Refusals are JSON like every other error of the API: {"error": "..."}.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]")
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


class Guard:
    """ASGI middleware applying the rules above to every HTTP request."""

    def __init__(self, app: ASGIApp, max_body: int, local_only: bool) -> None:
        self.app, self.max_body, self.local_only = app, max_body, local_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        refusal = self._refusal(scope["method"], headers)
        if refusal is not None:
            await _send_json(send, *refusal)
            return
        await self._call_limited(scope, receive, send)

    def _refusal(self, method: str, headers: dict[str, str]) -> tuple[int, str] | None:
        host = headers.get("host", "")
        if self.local_only and _hostname(host) not in LOOPBACK_NAMES:
            return 421, f"this lab answers only on localhost, not on {host!r}"
        origin = headers.get("origin")
        # A sandboxed frame sends "Origin: null": that is not this lab either.
        unsafe = method not in ("GET", "HEAD", "OPTIONS")
        if unsafe and origin is not None and urlsplit(origin).netloc != host:
            return 403, "requests from other web sites are not accepted"
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            return 413, self._too_large()
        return None

    async def _call_limited(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Read the body first, refusing it as soon as it passes the limit (a chunked body
        announces no length), then hand it to the app."""
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before sending its body
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_body:
                await _send_json(send, 413, self._too_large())
                return
            if not message.get("more_body", False):
                break
        body, replayed = b"".join(chunks), False

        async def replay_receive() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # later calls wait for the client to disconnect

        async def headed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, replay_receive, headed_send)

    def _too_large(self) -> str:
        return f"the request body is too large (limit {self.max_body:,} bytes)"


def _hostname(host: str) -> str:
    if host.startswith("["):  # an IPv6 address, e.g. [::1]:8000
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


async def _send_json(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
