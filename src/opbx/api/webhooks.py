"""Provider webhooks: ``POST /webhooks/cloudonix/{call-initiated,call-status,cdr}``.

The signature is checked on the raw body before anything parses it. Answers: 200 for an
applied, duplicate or ignored report (a provider must not retry those), 401 for a bad or
missing signature, 403 for a report about another organization's number or call, 404 for a
new call to a number nobody owns, 413 for an oversized body, 422 for a body that cannot be
understood. The organization may be named (``?org=ID`` or ``X-OpBX-Organization``) so only
its secret is tried. Each is counted by kind and outcome (``opbx_api_webhooks_total``).
"""

from __future__ import annotations

import logging

from msgspec import Struct
from starlette.requests import Request
from starlette.responses import Response

from opbx.api.context import context_of
from opbx.api.contract import ID_SCHEMA, Auth, Endpoint, Operation, Parameter, json_response
from opbx.api.errors import ApiProblem
from opbx.api.inputs import limited_body
from opbx.telephony.bodies import BODIES
from opbx.telephony.ingest import SIGNATURE_HEADER, InvalidWebhook, WebhookKind, webhook_path
from opbx.telephony.service import UnknownDid, WebhookForbidden, WebhookUnauthorized

__all__ = ["OPERATIONS"]


class WebhookAnswer(Struct, frozen=True, kw_only=True):
    outcome: str
    """applied, duplicate or ignored: the provider must not retry any of them."""
    call_id: str
    call_status: str
    events: list[str]
    """The broadcasts the report caused (call.initiated, call.ringing, call.answered, call.ended)."""
    reason: str | None


log = logging.getLogger("opbx.api.webhooks")

_REFUSALS: dict[type[Exception], tuple[int, str]] = {
    WebhookUnauthorized: (401, "unauthorized"),
    WebhookForbidden: (403, "forbidden"),
    UnknownDid: (404, "unknown_number"),
    InvalidWebhook: (422, "invalid"),
}
"""Each refusal: its status, and its outcome in ``opbx_api_webhooks_total``."""


async def receive_webhook(request: Request, kind: WebhookKind) -> Response:
    context = context_of(request)
    count = context.metrics.webhook
    try:
        body = await limited_body(request)
    except ApiProblem as exc:
        if exc.status == 413:
            count(kind.value, "too_large")
            log.warning("webhook %s refused: %s", kind, exc.message)
        raise
    hint = request.query_params.get("org") or request.headers.get("x-opbx-organization")
    try:
        result = await context.service.handle(kind, body, request.headers.get(SIGNATURE_HEADER), hint)
    except (WebhookUnauthorized, WebhookForbidden, UnknownDid, InvalidWebhook) as exc:
        status, outcome = next(answer for refusal, answer in _REFUSALS.items() if isinstance(exc, refusal))
        count(kind.value, outcome)
        log.warning("webhook %s refused: %s", kind, exc)
        raise ApiProblem(status, str(exc)) from None
    except Exception:
        count(kind.value, "error")
        raise
    count(kind.value, str(result.outcome))
    return json_response(
        WebhookAnswer(
            outcome=result.outcome,
            call_id=result.call_id,
            call_status=result.status,
            events=list(result.events),
            reason=result.reason,
        )
    )


def _receiver(kind: WebhookKind) -> Endpoint:
    async def receive(request: Request) -> Response:
        return await receive_webhook(request, kind)

    receive.__name__ = f"receive_{kind.value.replace('-', '_')}"
    return receive


_ORGANIZATION = (
    Parameter("org", "query", ID_SCHEMA, "The organization whose secret signed the body (else every one is tried)."),
    Parameter("X-OpBX-Organization", "header", ID_SCHEMA, "The same, as a header."),
    Parameter("X-Cloudonix-Signature", "header", {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"},
              "Hex HMAC-SHA256 of the raw body with the organization's webhook secret.", required=True),
)  # fmt: skip
_SUMMARIES = {
    WebhookKind.CALL_INITIATED: "Provider webhook: a call has arrived",
    WebhookKind.CALL_STATUS: "Provider webhook: a call changed state (a Cloudonix session record)",
    WebhookKind.CDR: "Provider webhook: the call detail record, after the call ended",
}

OPERATIONS = tuple(
    Operation("POST", webhook_path(kind), _receiver(kind), _SUMMARIES[kind], "Provider webhooks",
              {200: WebhookAnswer}, auth=Auth.WEBHOOK, body=BODIES[kind.value], parameters=_ORGANIZATION,
              errors=(401, 403, 404), description="Fields, examples and answers: docs/webhooks.md.")
    for kind in WebhookKind
)  # fmt: skip
