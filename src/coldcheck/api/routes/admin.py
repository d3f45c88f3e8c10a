"""Access to a production: members (accounts linked to people), registered
devices, and your own bearer tokens."""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated, Any

from fastapi import Depends, Path
from starlette.responses import Response

from ...services import accounts
from ...services.accounts import AccessError
from ..auth import Call, Reader, Writer, remote
from ..schemas import (
    AddedMemberOut,
    DeviceIn,
    DeviceKeyOut,
    DeviceOut,
    MemberIn,
    MemberOut,
    NewTokenOut,
    TokenIn,
    TokenOut,
)
from . import router

PREFIX = "/api/v1/productions/{production}"
TAGS: list[str | Enum] = ["access"]


def _json(data: Any) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), media_type="application/json")


@router.get(PREFIX + "/members", tags=TAGS, response_model=list[MemberOut],
            summary="Accounts linked to people of the production (usernames: for "
                    "whoever manages members only)")
def members(call: Annotated[Call, Depends(Reader("member.manage"))]) -> Response:
    return _json(accounts.members(call.state.store, call.production))


@router.post(PREFIX + "/members", tags=TAGS, response_model=AddedMemberOut, status_code=201,
             summary="Link an account to a person (a new username is created with the "
                     "password given)")
def add_member(body: MemberIn,
               call: Annotated[Call, Depends(Writer("member.manage"))]) -> Response:
    return call.run(lambda: accounts.add_member(
        call.state.store, ph=call.state.ph, production=call.production, person=body.person,
        username=body.username, password=body.password, at=call.now(),
        by=call.principal.username, remote=remote(call.request)), status=201)


@router.get(PREFIX + "/devices", tags=TAGS,
            response_model=list[DeviceOut], summary="Registered devices")
def devices(call: Annotated[Call, Depends(Reader("read"))]) -> Response:
    return _json(accounts.devices(call.state.store, call.production))


@router.post(PREFIX + "/devices", tags=TAGS, response_model=DeviceKeyOut, status_code=201,
             summary="Register a device (tablet); its key (shown once) goes in "
                     "X-Coldcheck-Device (Idempotency-Key is ignored: the key is never "
                     "stored)")
def register_device(body: DeviceIn,
                    call: Annotated[Call, Depends(Writer("device.manage", idempotent=False))]
                    ) -> Response:
    return call.run(lambda: accounts.register_device(
        call.state.store, production=call.production, name=body.name,
        account_id=call.principal.account_id, at=call.now()), status=201)


@router.delete(PREFIX + "/devices/{device}", tags=TAGS, response_model=DeviceOut,
               summary="Revoke a device: its writes are refused from now on")
def revoke_device(device: Annotated[str, Path(min_length=1, max_length=32)],
                  call: Annotated[Call, Depends(Writer("device.manage"))]) -> Response:
    return call.run(lambda: accounts.revoke_device(
        call.state.store, production=call.production, device=device,
        account_id=call.principal.account_id, at=call.now()))


@router.get(PREFIX + "/tokens", tags=TAGS, response_model=list[TokenOut],
            summary="Your bearer tokens on this production (never the tokens themselves)")
def tokens(call: Annotated[Call, Depends(Reader("token.own"))]) -> Response:
    return _json(accounts.tokens(call.state.store, account_id=call.principal.account_id,
                                 production=call.production))


@router.post(PREFIX + "/tokens", tags=TAGS, response_model=NewTokenOut, status_code=201,
             summary="Create a bearer token for this production; it is shown once "
                     "(Idempotency-Key is ignored: the token is never stored)")
def create_token(body: TokenIn,
                 call: Annotated[Call, Depends(Writer("token.own", idempotent=False))]
                 ) -> Response:
    def go() -> dict[str, Any]:
        if call.principal.via != "session":
            # A token minting tokens would outlive its own revocation (security review).
            raise AccessError("ACTION_FORBIDDEN", "a bearer token cannot create tokens: "
                              "sign in (a session) to create one", kind="forbidden",
                              action="token.own")
        raw, row = accounts.create_token(
            call.state.store, account_id=call.principal.account_id, production=call.production,
            name=body.name, hours=body.expires_in_hours,
            max_hours=call.state.settings.token_max_hours, at=call.now())
        return {**row, "token": raw}
    return call.run(go, status=201)


@router.delete(PREFIX + "/tokens/{token_id}", tags=TAGS,
               response_model=TokenOut, summary="Revoke one of your tokens")
def revoke_token(token_id: Annotated[str, Path(min_length=1, max_length=32)],
                 call: Annotated[Call, Depends(Writer("token.own"))]) -> Response:
    return call.run(lambda: accounts.revoke_token(
        call.state.store, account_id=call.principal.account_id, production=call.production,
        token_id=token_id, at=call.now()))
