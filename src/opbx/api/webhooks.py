"""Provider webhooks: ``POST /webhooks/cloudonix/{call-initiated,call-status,cdr}``.

The signature is checked on the raw body before anything parses it. Answers: 200 for an
applied, duplicate or ignored report (a provider must not retry those), 401 for a bad or
missing signature, 403 for a report about another organization's number or call, 404 for a
new call to a number nobody owns, 413 for an oversized body, 422 for a body that cannot be
understood. The organization may be named (``?org=ID`` or ``X-OpBX-Organization``) so only
its secret is tried.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from opbx.api.context import context_of
from opbx.api.errors import ApiProblem
from opbx.api.inputs import limited_body
from opbx.telephony.ingest import SIGNATURE_HEADER, InvalidWebhook, WebhookKind
from opbx.telephony.service import UnknownDid, WebhookForbidden, WebhookUnauthorized

__all__ = ["receive_webhook"]

log = logging.getLogger("opbx.api.webhooks")


async def receive_webhook(request: Request) -> Response:
    try:
        kind = WebhookKind(request.path_params["kind"])
    except ValueError:
        raise ApiProblem(404, f"No webhook called {request.path_params['kind'][:40]!r}") from None
    body = await limited_body(request)
    hint = request.query_params.get("org") or request.headers.get("x-opbx-organization")
    service = context_of(request).service
    try:
        result = await service.handle(kind, body, request.headers.get(SIGNATURE_HEADER), hint)
    except WebhookUnauthorized as exc:
        log.warning("webhook %s refused: %s", kind, exc)
        raise ApiProblem(401, str(exc)) from None
    except WebhookForbidden as exc:
        log.warning("webhook %s refused: %s", kind, exc)
        raise ApiProblem(403, str(exc)) from None
    except UnknownDid as exc:
        log.warning("webhook %s refused: %s", kind, exc)
        raise ApiProblem(404, str(exc)) from None
    except InvalidWebhook as exc:
        log.warning("webhook %s refused: %s", kind, exc)
        raise ApiProblem(422, str(exc)) from None
    return JSONResponse(
        {
            "outcome": result.outcome,
            "call_id": result.call_id,
            "call_status": result.status,
            "events": list(result.events),
            "reason": result.reason,
        }
    )
