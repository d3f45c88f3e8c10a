"""`coldcheck webhook set|clear|deliver|status`: the production's outgoing alert
webhook (services/webhook.py). The secret is read from standard input (or a
prompt), or generated and printed once; never an argument."""

from __future__ import annotations

import getpass
import sys
from typing import Annotated, Any

import typer

from .common import DbOpt, JsonOpt, ProdOpt, ctx_for, jsonable, out, run

Req = typer.Option

webhook = typer.Typer(help="The production's alert webhook: incidents, overdue weapons and "
                           "complaints unacknowledged for 24 hours, posted to a URL the "
                           "producer sets (signed with HMAC-SHA256).", no_args_is_help=True)


def _read_secret() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("webhook secret: ")
    return sys.stdin.readline().rstrip("\n")


@webhook.command("set")
def webhook_set(url: Annotated[str, Req(help="Where to post alerts (http:// or https://).")],
                by: Annotated[str, Req(help="The producer's person id.")],
                secret_stdin: Annotated[bool, Req(
                    "--secret-stdin", help="Read the signing secret from standard input "
                                           "(or a prompt) instead of generating one.")] = False,
                db: DbOpt = None, production: ProdOpt = None,
                as_json: JsonOpt = False) -> None:
    """Set the production's alert webhook (the producer only; recorded as an event with
    the URL and the secret's fingerprint). Without --secret-stdin a secret is generated
    and printed this once: give it to the receiver to check Coldcheck-Signature."""
    def go() -> dict[str, Any]:
        from ..services import webhook as hook

        secret = _read_secret() if secret_stdin else None
        events, generated = hook.set_webhook(ctx_for(db, production), url=url, secret=secret,
                                             actor=by)
        return {"events": jsonable(events), **({"secret": generated} if generated else {})}

    def show(r: dict[str, Any]) -> None:
        p = r["events"][0]["payload"]
        out.print(f"[green]✔[/] alerts will be posted to {p['url']} "
                  f"(secret {p['secret_fingerprint'][-8:]})", soft_wrap=True)
        if "secret" in r:
            out.print(f"The signing secret, shown this once:\n{r['secret']}", soft_wrap=True)
    run(as_json, go, show)


@webhook.command("clear")
def webhook_clear(by: Annotated[str, Req(help="The producer's person id.")],
                  db: DbOpt = None, production: ProdOpt = None,
                  as_json: JsonOpt = False) -> None:
    """Remove the production's alert webhook (the producer only): nothing more is posted,
    and alerts not yet delivered are dropped."""
    from ..services import webhook as hook

    run(as_json, lambda: hook.clear_webhook(ctx_for(db, production), actor=by))


@webhook.command("deliver")
def webhook_deliver(db: DbOpt = None, production: ProdOpt = None,
                    as_json: JsonOpt = False) -> None:
    """Post the alerts due now, once (for cron; `coldcheck serve` does it every 15 s).
    Failed posts are retried on later rounds with growing waits (30 s to an hour)."""
    def go() -> dict[str, Any]:
        from ..services import webhook as hook

        ctx = ctx_for(db, production)
        return hook.deliver(ctx.store, ctx.settings, at=ctx.now(), production=ctx.production)

    def show(r: dict[str, dict[str, int]]) -> None:
        if not r:
            out.print("no alert webhook is set")
        for prod, c in r.items():
            out.print(f"{prod}: {c['queued']} queued, {c['delivered']} delivered, "
                      f"{c['failed']} failed")
    run(as_json, go, show)


@webhook.command("status")
def webhook_status(db: DbOpt = None, production: ProdOpt = None,
                   as_json: JsonOpt = False) -> None:
    """The alerts queued for the webhook: attempts, last error, next try, delivered."""
    def go() -> list[dict[str, Any]]:
        from ..services import webhook as hook

        ctx = ctx_for(db, production)
        return hook.deliveries(ctx.store, ctx.production)

    def show(rows: list[dict[str, Any]]) -> None:
        if not rows:
            out.print("nothing queued")
        for r in rows:
            state = (f"delivered {r['delivered_at']}" if r["delivered_at"] else
                     f"pending, next try {r['next_try_at']}"
                     + (f", last error: {r['last_error']}" if r["last_error"] else ""))
            out.print(f"{r['alert_id']}: {r['attempts']} attempt(s), {state}", soft_wrap=True)
    run(as_json, go, show)


def register(app: typer.Typer) -> None:
    app.add_typer(webhook, name="webhook")
