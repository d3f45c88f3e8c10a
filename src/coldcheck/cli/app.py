"""The root command, the tree of commands under it, and the one-line summaries.

Nothing here imports more than Typer: ``coldcheck --help`` must answer without
loading the database, web or PDF stacks (issue 19). The root builds a
command's Click object only when that command is asked for (run, or its own
``--help``): Typer would otherwise read the signature of every one of the
sixty-odd commands at each start, to run one of them."""

from __future__ import annotations

import importlib
import sys
from typing import Any, Literal

import typer
from typer.core import TyperGroup

# Boxed, coloured help on a terminal; plain text (Click's own layout, no Rich
# import) when a script or a pipe reads it.
MARKUP: Literal["rich"] | None = "rich" if sys.stdout.isatty() else None


def group(help: str) -> typer.Typer:
    """A command group: lists its commands when called without one."""
    return typer.Typer(help=help, no_args_is_help=True, rich_markup_mode=MARKUP)


# One line for each command in the lists `coldcheck --help` and `coldcheck GROUP
# --help` print; `coldcheck COMMAND --help` (and docs/cli.md) keeps the whole text.
SHORT_HELP = {
    "init": "Create a production, its signing key and ledger.",
    "migrate": "Bring a database's schema to this version.",
    "demo": "Build a realistic shooting day in a fresh database.",
    "inspect": "Record a show-clear inspection, position by position.",
    "witness": "A witness confirms an inspection with their PIN.",
    "issue": "Armorer → performer, after a witnessed inspection.",
    "return": "Performer → armorer, with what was fired or lost.",
    "handoff": "Any other transfer between two people (refused, recorded).",
    "store": "Lock a weapon in storage.",
    "override": "Safety supervisor bends a SOFT rule, with a reason.",
    "wrap": "Wrap the day: everything stored, balanced and counted.",
    "note": "Add a correction or remark about an earlier event.",
    "status": "The board: weapons, lots, alerts.",
    "timeline": "Every event about a weapon, lot, person, scene or day.",
    "rebuild": "Rebuild the projections from the events.",
    "serve": "Serve the JSON API with uvicorn.",
    "backup": "Copy the SQLite database, verify the copy, print its SHA-256.",
    "restore": "Put a verified backup back in place of the database.",
    "person": "People: roles, badges, PINs, briefings.",
    "storage": "Safes and lockable carts.",
    "weapon": "Weapons: intake into storage, retirement.",
    "ammo": "Ammunition lots: intake, verification, destruction.",
    "day": "Shooting days and meal breaks.",
    "scene": "Scenes: hot or cold, weapons, performers, pointing.",
    "meeting": "Safety meetings with attendance.",
    "incident": "Incidents: report, close, evidence package.",
    "complaint": "Safety complaints: file and acknowledge.",
    "production": "The production's settings: its time zone.",
    "vendor": "Vendors: add, return to them, the return manifest.",
    "owner": "Who owns a weapon or lot: agreement, insurance, due back.",
    "receipt": "Deliveries checked in item by item against their manifest.",
    "kit": "A weapon's kit: accessories that go out and back with it.",
    "webhook": "The alert webhook: set, clear, deliver, status.",
    "ledger": "The tamper-evident ledger: keys, checkpoints, proofs.",
    "report": "Printable reports (PDF).",
    "import": "Import an inventory from CSV (weapons, lots): all rows or none.",
    "export": "Export the inventory, the custody record or the bound book.",
    "account": "Accounts for the API, each linked to a person.",
    "token": "Bearer tokens for scripts.",
    "device": "Registered devices (tablets).",
    "person add": "Add a person (PIN prompted).",
    "person pin": "Set or change a person's witness PIN.",
    "person brief": "Record a weapons-safety briefing.",
    "person renew": "Record an armorer's renewed qualification.",
    "person credential": "Record a handler's credential (classes, expiry).",
    "person credential-revoke": "Revoke a handler's credential.",
    "person list": "People, roles and warnings.",
    "storage add": "Register a safe or lockable cart.",
    "weapon add": "Take a weapon into inventory, into storage.",
    "weapon classify": "Record a firearm's class (handgun, long gun, full-auto).",
    "weapon retire": "Take a stored weapon out of service for good.",
    "weapon dud": "Record a blank that did not fire in a planned take (no freeze).",
    "weapon clean": "Record the after-use cleaning of a weapon.",
    "weapon check": "Record the before-use function check of a weapon.",
    "weapon ground": "Ground a damaged or suspect weapon (armorer and supervisor PINs).",
    "weapon repair": "Record the repair that returns a grounded weapon to service.",
    "ammo intake": "Take an ammunition lot into inventory.",
    "ammo verify": "Verify dummy rounds one by one.",
    "ammo destroy": "Destroy rounds from a lot.",
    "ammo evidence": "Record a round unloaded from a frozen weapon.",
    "day open": "Open a shooting day.",
    "day meal-break": "Start or end a meal break.",
    "scene add": "Plan a scene on the open day.",
    "scene ack-pointing": "Acknowledge a scene's pointing plan.",
    "meeting record": "Record a safety meeting with its attendance.",
    "incident report": "Open an incident; it freezes what it names.",
    "incident close": "Close an incident (armorer and supervisor sign).",
    "incident export": "Write an incident's evidence package (ZIP).",
    "complaint file": "File a safety complaint.",
    "complaint ack": "Acknowledge a safety complaint.",
    "production timezone": "Set the production's time zone (producer).",
    "vendor add": "Record a vendor: a rental house, or the production.",
    "vendor list": "Vendors and what of theirs is still here.",
    "vendor return": "Send weapons, kits and lots back to their vendor (armorer PIN).",
    "vendor manifest": "The return manifest as PDF, with signature lines.",
    "owner record": "Record a weapon's or lot's owner, agreement, insurance, due-back.",
    "receipt open": "Open a delivery's receipt with its manifest.",
    "receipt check": "Check one item of a delivery in (or record it missing or extra).",
    "receipt sign": "The receiving armorer signs the delivery (PIN).",
    "receipt show": "A receipt line by line: what was checked in, differences.",
    "kit add": "List an accessory on a weapon's kit.",
    "kit found": "An accessory noted missing from a kit was found.",
    "webhook set": "Set the alert webhook's URL and secret (producer).",
    "webhook clear": "Remove the alert webhook (producer).",
    "webhook deliver": "Post the alerts due now, once (for cron).",
    "webhook status": "The alerts queued for the webhook, with their attempts.",
    "ledger key": "Print the verifier key line.",
    "ledger checkpoint": "Sign a checkpoint if needed; print the latest.",
    "ledger entry": "Write entry N's exact bytes to standard output.",
    "ledger prove-inclusion": "Inclusion proof of an entry.",
    "ledger prove-consistency": "Consistency proof between two tree sizes.",
    "ledger master-key": "Create a master key file for sealed keys.",
    "ledger seal-key": "Keep the signing key in the database, sealed.",
    "ledger verify": "Recompute the whole ledger and compare.",
    "report daily": "The daily report as PDF.",
    "report labels": "QR labels as PDF: a sheet, or one per sticker (2x1in, 62mm).",
    "import weapons": "Take weapons in from a CSV file (all rows or none).",
    "import lots": "Take ammunition lots in from a CSV file (all rows or none).",
    "export weapons": "The weapons as CSV (the columns an import reads).",
    "export lots": "The ammunition lots as CSV (the columns an import reads).",
    "export events": "The custody record of a day or a range of days as CSV.",
    "export bound-book": "Acquisitions and dispositions, one line per weapon (PDF or CSV).",
    "account add": "Link a username to a person of the production.",
    "token create": "Create a bearer token (printed once).",
    "token revoke": "Revoke a bearer token.",
    "device add": "Register a device on the production.",
    "device revoke": "Revoke a device.",
}


# Where each command and group under the root is defined (the module's
# register() adds it to ``tree``), in the order the help lists them: running one
# command imports its module only. A test checks this against the modules.
SOURCES = {
    **dict.fromkeys(["init", "migrate", "demo", "inspect", "witness", "issue", "return",
                     "handoff", "store", "override", "wrap", "note", "status", "timeline",
                     "rebuild"], "commands"),
    "serve": "serve", "backup": "backup", "restore": "backup",
    **dict.fromkeys(["person", "storage", "weapon", "ammo", "day", "scene", "meeting",
                     "incident", "complaint", "production"], "commands"),
    **dict.fromkeys(["vendor", "owner", "receipt", "kit"], "rental"),
    "webhook": "webhook",
    "ledger": "ledger", "report": "report", "import": "books", "export": "books",
    **dict.fromkeys(["account", "token", "device"], "serve"),
}

# The commands and groups of the modules loaded so far.
tree = typer.Typer(rich_markup_mode=MARKUP)
_loaded: set[str] = set()


def load(module: str) -> None:
    """Import one command module and register what it defines under the root."""
    if module not in _loaded:
        importlib.import_module(f"{__package__}.{module}").register(tree)
        _loaded.add(module)
        finish()


def _name(info: Any) -> str:
    from typer.main import get_command_name

    return str(info.name or get_command_name(info.callback.__name__))


class LazyRoot(TyperGroup):
    """The root group: a command's module is imported, and its Click object
    built, the first time that command is asked for."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._built: dict[str, Any] = {}

    def _source(self, name: str) -> Any:
        load(SOURCES[name])
        for c in tree.registered_commands:
            if _name(c) == name:
                return c
        return next(g for g in tree.registered_groups if g.name == name)

    def list_commands(self, ctx: Any) -> list[str]:
        return list(SOURCES)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self._built:
            if cmd_name not in SOURCES:
                return None
            info = self._source(cmd_name)
            one = typer.Typer(rich_markup_mode=MARKUP,
                             pretty_exceptions_short=app.pretty_exceptions_short)
            one.callback()(_nothing)  # a group, even of one command
            if isinstance(info, typer.models.CommandInfo):
                one.registered_commands.append(info)
            else:
                one.registered_groups.append(info)
            self._built[cmd_name] = typer.main.get_command(one).commands[cmd_name]  # type: ignore[attr-defined]
        return self._built[cmd_name]

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        try:
            return super().resolve_command(ctx, args)
        except Exception as e:
            # Typer's "did you mean" reads the built commands, which are not built.
            message = getattr(e, "message", None)
            if isinstance(message, str) and message.startswith("No such command") and args:
                import difflib

                matches = difflib.get_close_matches(args[0], list(SOURCES))
                if matches and "Did you mean" not in message:
                    e.message = (f"{message.rstrip('.')}. Did you mean "  # type: ignore[attr-defined]
                                 f"{', '.join(repr(m) for m in matches)}?")
            raise

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """The plain-text list, from the summaries: no command is built for it."""
        rows = []
        for name in self.list_commands(ctx):
            line = SHORT_HELP.get(name)
            if line is None:
                line = self.get_command(ctx, name).get_short_help_str(formatter.width)
            rows.append((name, line))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _nothing() -> None:
    pass


def _root(ctx: typer.Context) -> None:
    """Every command: its database connections are closed when it ends, however it
    ends (a refusal exits 3), so a process running many commands in turn (the
    tests, a script importing the CLI) never holds one pool per command."""
    from .common import close_contexts

    ctx.call_on_close(close_contexts)


app = typer.Typer(
    name="coldcheck", cls=LazyRoot, no_args_is_help=True, add_completion=False,
    rich_markup_mode=MARKUP,
    help="Chain of custody and a tamper-evident ledger for prop firearms and ammunition on "
         "set. Every action is checked against the rule catalogue (docs/rules.md) and "
         "recorded; witness PINs are prompted, never passed as arguments.")
app.callback()(_root)


def finish(typer_app: Any = tree, path: str = "") -> None:
    """Give every command and group under ``typer_app`` its line from SHORT_HELP."""
    for info in typer_app.registered_commands:
        info.short_help = info.short_help or SHORT_HELP.get(f"{path}{_name(info)}")
    for sub in typer_app.registered_groups:
        sub.short_help = SHORT_HELP.get(f"{path}{sub.name}", sub.short_help)
        finish(sub.typer_instance, f"{path}{sub.name} ")
