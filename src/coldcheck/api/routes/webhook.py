"""The production's outgoing alert webhook: the producer sets or removes it
(``production.set_webhook``). Its secret goes in and never comes back out."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

from fastapi import Depends
from starlette.responses import Response

from ...services import webhook as hook
from ..auth import Call, Writer
from ..schemas import Recorded, WebhookIn
from . import router

PREFIX = "/api/v1/productions/{production}"
TAGS: list[str | Enum] = ["custody"]


def act(action: str) -> Any:
    return Depends(Writer(action))


@router.post(PREFIX + "/webhook", tags=TAGS, response_model=Recorded,
             summary="Set the production's alert webhook (the producer): URL and signing "
                     "secret; the secret is never answered")
def set_webhook(body: WebhookIn,
                call: Annotated[Call, act("production.set_webhook")]) -> Response:
    return call.record(lambda ctx: hook.set_webhook(ctx, url=body.url, secret=body.secret,
                                                    actor=call.person)[0])


@router.delete(PREFIX + "/webhook", tags=TAGS, response_model=Recorded,
               summary="Remove the production's alert webhook (the producer): nothing more "
                       "is posted")
def clear_webhook(call: Annotated[Call, act("production.set_webhook")]) -> Response:
    return call.record(lambda ctx: hook.clear_webhook(ctx, actor=call.person))
