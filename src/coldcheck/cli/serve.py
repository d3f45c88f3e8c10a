"""`coldcheck serve` (the JSON API) and the access commands that go with it:
`coldcheck account add`, `coldcheck token create|revoke`, `coldcheck device
add|revoke`. Passwords are prompted (or read from standard input), never
arguments; a token is printed once."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ..domain.errors import InvalidInput, NotFound
from .common import DbOpt, JsonOpt, ProdOpt, ctx_for, guarded, out, run, settings

Req = typer.Option

account = typer.Typer(help="Accounts for the API: each is linked to a person of a production, "
                           "whose roles it gets there.", no_args_is_help=True)
token = typer.Typer(help="Bearer tokens for scripts: scoped to one production, expiring, "
                         "revocable.", no_args_is_help=True)
device = typer.Typer(help="Registered devices (tablets); API writes name one in "
                          "X-Coldcheck-Device.", no_args_is_help=True)


def serve(db: DbOpt = None,
          host: Annotated[str | None, Req(help="Address to listen on (default 127.0.0.1, or "
                                          "COLDCHECK_API_HOST). Any other address needs TLS "
                                          "or --insecure-lan.")] = None,
          port: Annotated[int | None, Req(help="Port (default 8000, or COLDCHECK_API_PORT).")]
          = None,
          insecure_lan: Annotated[bool, Req(help="Allow plain HTTP on a non-loopback address "
                                            "(prints a warning).")] = False,
          tls_cert: Annotated[Path | None, Req(help="PEM certificate (chain) for HTTPS.")] = None,
          tls_key: Annotated[Path | None, Req(help="PEM private key for HTTPS.")] = None) -> None:
    """Serve the JSON API (/api/v1, OpenAPI at /api/v1/openapi.json) with uvicorn."""
    from ..server import serve as run_server

    s = settings(db)
    with guarded(False):
        run_server(s, host=host or s.api_host, port=port or s.api_port,
                   tls_cert=tls_cert or s.tls_cert, tls_key=tls_key or s.tls_key,
                   insecure_lan=insecure_lan)


def _read_password(prompt: str) -> str:
    if sys.stdin.isatty():
        first = getpass.getpass(f"{prompt}: ")
        if getpass.getpass("again: ") != first:
            raise InvalidInput("INVALID_INPUT", "the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\n")


@account.command("add")
def account_add(username: str, person: Annotated[str, Req(help="Person id, e.g. P1.")],
                db: DbOpt = None, production: ProdOpt = None, as_json: JsonOpt = False) -> None:
    """Link USERNAME to a person of the production. A new username is created with a
    password (prompted twice, or one line of standard input)."""
    def go() -> dict[str, Any]:
        from ..security import hasher
        from ..services import accounts

        ctx = ctx_for(db, production)
        uname = accounts.check_username(username)
        try:
            accounts.account_of_username(ctx.store, uname)
            password = None
        except NotFound:  # a new username: the account is created
            password = _read_password(f"password for new account {uname}")
        return accounts.add_member(ctx.store, ph=hasher(ctx.settings.argon2_profile),
                                   production=ctx.production, person=person,
                                   username=uname, password=password, by="cli")
    run(as_json, go, lambda r: out.print(
        f"[green]✔[/] {r['username']} is {r['person']} on {r['production']}"
        + (" (new account)" if r["created_account"] else "")))


@token.command("create")
def token_create(username: str, name: Annotated[str, Req(help="What the token is for.")],
                 hours: Annotated[int, Req(help="Lifetime in hours.")] = 12,
                 db: DbOpt = None, production: ProdOpt = None,
                 as_json: JsonOpt = False) -> None:
    """Create a bearer token for USERNAME on the production; it is printed once."""
    def go() -> dict[str, Any]:
        from ..services import accounts

        ctx = ctx_for(db, production)
        acc = accounts.account_of_username(ctx.store, username)
        if accounts.membership(ctx.store, acc, ctx.production) is None:
            raise InvalidInput("NOT_FOUND", f"{username!r} is not a member of "
                               f"{ctx.production!r}")
        raw, row = accounts.create_token(ctx.store, account_id=acc, production=ctx.production,
                                         name=name, hours=hours,
                                         max_hours=ctx.settings.token_max_hours, at=ctx.now())
        return {**row, "token": raw}
    run(as_json, go, lambda r: out.print(
        f"[green]✔[/] token {r['id']} (expires {r['expires_at']}); shown once:\n{r['token']}"))


@token.command("revoke")
def token_revoke(token_id: str, username: str, db: DbOpt = None, production: ProdOpt = None,
                 as_json: JsonOpt = False) -> None:
    """Revoke token TOKEN_ID of USERNAME."""
    def go() -> dict[str, Any]:
        from ..services import accounts

        ctx = ctx_for(db, production)
        acc = accounts.account_of_username(ctx.store, username)
        return accounts.revoke_token(ctx.store, account_id=acc, production=ctx.production,
                                     token_id=token_id, at=ctx.now())
    run(as_json, go, lambda r: out.print(f"[green]✔[/] token {r['id']} revoked"))


@device.command("add")
def device_add(name: Annotated[str, Req(help="What the device is, e.g. 'Armory tablet 1'.")],
               by: Annotated[str, Req(help="Username registering it.")], db: DbOpt = None,
               production: ProdOpt = None, as_json: JsonOpt = False) -> None:
    """Register a device (tablet, script host) on the production."""
    def go() -> dict[str, Any]:
        from ..services import accounts

        ctx = ctx_for(db, production)
        acc = accounts.account_of_username(ctx.store, by)
        return accounts.register_device(ctx.store, production=ctx.production, name=name,
                                        account_id=acc, at=ctx.now())
    run(as_json, go, lambda r: out.print(
        f"[green]✔[/] device {r['id']} ({r['name']}). Its key, shown this once: send it in "
        f"X-Coldcheck-Device with every write:\n{r['key']}", soft_wrap=True))


@device.command("revoke")
def device_revoke(device_id: str, by: Annotated[str, Req(help="Username revoking it.")],
                  db: DbOpt = None, production: ProdOpt = None,
                  as_json: JsonOpt = False) -> None:
    """Revoke a device: its writes are refused from now on."""
    def go() -> dict[str, Any]:
        from ..services import accounts

        ctx = ctx_for(db, production)
        acc = accounts.account_of_username(ctx.store, by)
        return accounts.revoke_device(ctx.store, production=ctx.production, device=device_id,
                                      account_id=acc, at=ctx.now())
    run(as_json, go, lambda r: out.print(f"[green]✔[/] device {r['id']} revoked"))


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.add_typer(account, name="account")
    app.add_typer(token, name="token")
    app.add_typer(device, name="device")
