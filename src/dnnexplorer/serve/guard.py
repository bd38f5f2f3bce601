"""What protects the lab: its token, body size, other web sites, unknown hosts.

- **The token.** On a shared machine (a cluster's login or compute node) every other user can
  reach 127.0.0.1, so `dnnx serve` starts the lab with a random token, as Jupyter does, and
  prints the address with it (`/?token=...`). A request is let in when it carries the token:
  in the lab's cookie (set on the first visit: the address with `?token=` answers with a
  redirect to the same page without it, so the token leaves the address bar and the history),
  in an `Authorization: token ...` (or `Bearer ...`) header, for scripts, or as `?token=`.
  Anything else gets 401. The comparison takes the same time whatever the guess
  (`hmac.compare_digest`), so the token cannot be found character by character. The cookie is
  HttpOnly (page scripts cannot read it) and SameSite=Strict (other sites' pages cannot send
  it); its name carries a digest of the token, so two labs on one machine keep apart.
- a request body larger than `max_body` bytes is refused with 413 before it is all read
  (FastAPI's own `max_body_size` answers in plain text; every answer of this API is JSON);
- a POST whose Origin is another site (a page on the internet making your browser talk to
  127.0.0.1) is refused with 403;
- on the loopback address, a request whose Host is not localhost (or one of the `trusted_hosts`
  named with `--trusted-host`: the name of a proxy the lab is published through) is refused
  with 421, so a web site cannot reach the lab by pointing its own name at 127.0.0.1 (DNS
  rebinding);
- every answer says the pages load nothing from anywhere else (Content-Security-Policy).
Refusals are JSON like every other error of the API: {"error": "..."}.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from dnnexplorer.errors import ConfigError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


NO_TOKEN = (
    "this lab needs its token: open the address `dnnx serve` printed (it ends with ?token=...), "
    "or send the header 'Authorization: token ...'"
)


class Guard:
    """ASGI middleware applying the rules above to every HTTP request.

    `token`: what a request must carry to be let in (None: no token asked, `--no-token`).
    """

    def __init__(
        self,
        app: ASGIApp,
        max_body: int,
        local_only: bool,
        token: str | None = None,
        trusted_hosts: tuple[str, ...] = (),
    ) -> None:
        self.app, self.max_body, self.local_only = app, max_body, local_only
        self.token = token
        self.trusted_hosts = tuple(h.lower() for h in trusted_hosts)
        self.cookie_name = cookie_name(token) if token else ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        refusal = self._refusal(scope["method"], headers)
        if refusal is None and self.token is not None:
            carried = self._token_carried(scope, headers)
            if carried is None:
                refusal = 401, NO_TOKEN
            elif carried == "query" and scope["method"] in ("GET", "HEAD"):
                await self._remember_token(scope, send)  # the first visit
                return
        if refusal is not None:
            await _send_json(send, *refusal)
            return
        await self._call_limited(scope, receive, send)

    def _token_carried(self, scope: Scope, headers: dict[str, str]) -> str | None:
        """Where the request carries the right token: "cookie", "header" or "query"; or None."""
        if self._matches(_cookie(headers.get("cookie", ""), self.cookie_name)):
            return "cookie"
        scheme, _, credential = headers.get("authorization", "").partition(" ")
        if scheme.lower() in ("token", "bearer") and self._matches(credential.strip()):
            return "header"
        given = [value for key, value in _query(scope) if key == "token"]
        return "query" if given and self._matches(given[-1]) else None

    async def _remember_token(self, scope: Scope, send: Send) -> None:
        """The first visit: keep the token in a cookie; show the address without it."""
        rest = urlencode([(k, v) for k, v in _query(scope) if k != "token"])
        root, path = scope.get("root_path", "") or "", scope["path"]
        # uvicorn puts its --root-path in front of the path already; a test client may not
        path = path if path.startswith(root) else root + path
        location = path + (f"?{rest}" if rest else "")
        cookie = f"{self.cookie_name}={self.token}; Path={root or '/'}; HttpOnly; SameSite=Strict"
        await send(
            {
                "type": "http.response.start",
                "status": 303,
                "headers": [
                    (b"location", location.encode("latin-1")),
                    (b"set-cookie", cookie.encode("latin-1")),
                    (b"cache-control", b"no-store"),
                    (b"content-length", b"0"),
                    *SECURITY_HEADERS,
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    def _same_site(self, origin: str, host: str) -> bool:
        """The page that sent it is this lab's: served by this host, or by a trusted proxy."""
        parts = urlsplit(origin)
        return parts.netloc == host or (parts.hostname or "") in self.trusted_hosts

    def _matches(self, candidate: str | None) -> bool:
        if not candidate or self.token is None:
            return False
        return hmac.compare_digest(candidate.encode(), self.token.encode())

    def _refusal(self, method: str, headers: dict[str, str]) -> tuple[int, str] | None:
        host = headers.get("host", "")
        name = _hostname(host).lower()
        if self.local_only and not (is_loopback(name) or name in self.trusted_hosts):
            return 421, f"this lab answers only on localhost, not on {host!r}"
        origin = headers.get("origin")
        # A sandboxed frame sends "Origin: null": that is not this lab either.
        unsafe = method not in ("GET", "HEAD", "OPTIONS")
        if unsafe and origin is not None and not self._same_site(origin, host):
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


def is_loopback(host: str) -> bool:
    """True for names only this machine can reach: localhost, 127.0.0.1 (127.x.y.z), ::1.

    `dnnx serve --host` asks it of the address it listens on; the guard, of a request's Host.
    """
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a name, not an address
        return False


MIN_TOKEN_LENGTH = 16


def new_token() -> str:
    """A fresh random token: 43 URL-safe characters (256 bits), as hard to guess as a key."""
    return secrets.token_urlsafe(32)


def check_token(token: str) -> str:
    """`token` if it is long enough and URL-safe to print; ConfigError otherwise."""
    if len(token) < MIN_TOKEN_LENGTH:
        raise ConfigError(
            f"the lab's token must have at least {MIN_TOKEN_LENGTH} characters "
            "(leave --token out for a random one)"
        )
    if not all(c.isascii() and (c.isalnum() or c in "-_.~") for c in token):
        raise ConfigError("the lab's token may hold only letters, digits and - _ . ~")
    return token


def cookie_name(token: str) -> str:
    """The lab's cookie: named after a digest of its token, so two labs' cookies keep apart."""
    return "dnnx-lab-" + hashlib.sha256(token.encode()).hexdigest()[:12]


def _query(scope: Scope) -> list[tuple[str, str]]:
    return parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)


def _cookie(header: str, name: str) -> str | None:
    try:
        jar = SimpleCookie(header)
    except CookieError:
        return None
    return jar[name].value if name in jar else None


def _hostname(host: str) -> str:
    if host.startswith("["):  # an IPv6 address, e.g. [::1]:8000
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


async def _send_json(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
