"""Receive the registry's webhooks into the same store `sync` writes.

    receiver = WebhookReceiver(Store("removals.sqlite3"), secrets=["whsec_..."])
    outcome = receiver.handle(body_bytes, request_headers)    # in any web framework
    # or, standing alone:  removal-desk webhooks --store removals.sqlite3 --port 8080
    # (secrets in REMOVAL_DESK_WEBHOOK_SECRETS, space-separated, never on the command line)

Each event is checked before anything is written: its Standard Webhooks signature (the
`standardwebhooks` library the registry itself signs with; any secret live during a rotation
verifies) and its timestamp, within five minutes of now, so a message captured and sent again
later is refused. An event whose `webhook-id` was applied before (the registry retries with the
same id until it gets a 2xx) is answered 200 and changes nothing; the id is written in the
same transaction as the removals, so a receiver killed mid-way applies the event again whole
on the retry.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from .store import Store, StoreError

SECRETS_VARIABLE = "REMOVAL_DESK_WEBHOOK_SECRETS"
MAX_BODY = 16 * 1024 * 1024  # 500 removals an event is far below this
EVENT_TYPES = frozenset({"removal.approved", "removal.revoked"})


@dataclass(frozen=True)
class Outcome:
    """What the receiver did, as the HTTP answer to give: 2xx tells the registry to stop retrying."""

    status: int
    message: str
    applied: bool = False


class WebhookReceiver:
    def __init__(self, store: Store, *, secrets: Iterable[str]) -> None:
        # Imported here: `removal-desk --help` and the other commands need none of it.
        from standardwebhooks.webhooks import Webhook, WebhookVerificationError

        self.refused = WebhookVerificationError
        self.store = store
        self.verifiers = []
        for secret in secrets:
            try:
                self.verifiers.append(Webhook(secret))
            except Exception as exc:  # the library raises several kinds for a bad secret
                raise ValueError(
                    f"a webhook secret is not one the registry gave out (whsec_...): {exc}"
                ) from None
        if not self.verifiers:
            raise ValueError(
                f"no webhook secret: give the whsec_... the registry showed ({SECRETS_VARIABLE})"
            )

    def handle(self, body: bytes, headers: Mapping[str, str]) -> Outcome:
        if len(body) > MAX_BODY:
            return Outcome(413, "the body is larger than any event the registry sends")
        lowered = {k.lower(): v for k, v in headers.items()}
        payload: Any = None
        problem = "no signature"
        for verifier in self.verifiers:
            try:
                payload = verifier.verify(body, lowered)
                break
            except self.refused as exc:
                problem = str(exc)
            except (ValueError, UnicodeDecodeError) as exc:  # a body or header that is not what it claims
                problem = f"unreadable ({type(exc).__name__})"
        if payload is None:
            return Outcome(401, f"refused: the signature does not verify ({problem})")
        if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
            return Outcome(400, "refused: a signed body that is not a registry event")
        event_id = lowered["webhook-id"]
        event_type = payload["type"]
        if event_type not in EVENT_TYPES:
            # Acknowledged, so the registry does not retry a type this version does not know.
            return Outcome(202, f"{event_type}: not a type this toolkit applies; ignored")
        try:
            applied = self.store.event_apply(event_id=event_id, event_type=event_type, payload=payload)
        except StoreError as exc:
            return Outcome(400, f"refused: {exc}")
        if not applied:
            return Outcome(200, f"{event_id}: applied before; nothing changed")
        count = len((payload.get("data") or {}).get("removals") or [])
        return Outcome(200, f"{event_id}: {event_type}, {count} removal(s) applied", applied=True)


def wsgi_app(receiver: WebhookReceiver) -> Callable[..., Iterable[bytes]]:
    """A WSGI application answering POSTs with the receiver (mount it at any path)."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            outcome = Outcome(405, "POST the registry's webhook events here")
        else:
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = -1
            if not 0 <= length <= MAX_BODY:
                outcome = Outcome(413 if length > MAX_BODY else 400, "a body of unknown or too large length")
            else:
                body = environ["wsgi.input"].read(length)
                headers = {
                    key[5:].replace("_", "-").lower(): value
                    for key, value in environ.items()
                    if key.startswith("HTTP_")
                }
                outcome = receiver.handle(body, headers)
        data = json.dumps({"message": outcome.message}).encode()
        start_response(
            f"{outcome.status} {HTTPStatus(outcome.status).phrase}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
        )
        return [data]

    return app


def add_arguments(parser: Any) -> None:
    parser.add_argument("--store", required=True, help="the SQLite file `sync` writes (created when new)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    parser.epilog = (
        f"The signing secrets (whsec_...) are read from {SECRETS_VARIABLE}, space-separated "
        "(two during a rotation). Put it behind your HTTPS front end."
    )


def run(args: Any, *, stderr: Any = sys.stderr) -> int:
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *values: Any) -> None:
            stderr.write(f"{self.address_string()} {format % values}\n")

    try:
        store = Store(args.store)
        receiver = WebhookReceiver(store, secrets=os.environ.get(SECRETS_VARIABLE, "").split())
    except (ValueError, StoreError) as exc:
        stderr.write(f"removal-desk webhooks: {exc}\n")
        return 2
    with make_server(args.host, args.port, wsgi_app(receiver), handler_class=Quiet) as server:
        stderr.write(f"receiving webhooks on http://{args.host}:{server.server_port}/ into {args.store}\n")
        stderr.flush()
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: stop, the store is consistent
            server.serve_forever()
    store.close()
    return 0
