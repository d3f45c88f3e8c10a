"""The published catalogues in docs/ and the catalogues in the code stay in step.

Each doc lists its entries as level-3 headings (``### CODE``): rules.md every
rule code, events.md every event type, errors.md every non-rule error code,
configuration.md every setting. A heading that is a single token is a catalogue
entry; a heading with spaces is prose ("### Canonical bytes"). A test fails if
the code has an entry the doc lacks, or the doc has one the code lacks.

The source scan at the end checks the other direction inside the code: every
code string passed to ``Violation(...)`` or to an error class, and every event
type string passed to ``ev(...)``, ``NewEvent(...)`` or ``@on(...)``, is in the
catalogues, so nothing can be raised or recorded that the docs cannot list.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import importlib
import inspect
import re
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from coldcheck.config import Settings
from coldcheck.domain import errors as errors_module
from coldcheck.domain.checks import CHECKS
from coldcheck.domain.events import EVENT_TYPES, Event
from coldcheck.domain.rules import RULES, Strength

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
SRC = ROOT / "src" / "coldcheck"

ERROR_CODES = errors_module.ERROR_CODES

# Codes that appear in src but are neither rules nor errors. Each needs a reason.
ALERT_ONLY_CODES = {
    # Status-board alert for an open incident (domain/production.py: alerts). It is
    # never raised or recorded as a refusal, so it belongs in neither RULES nor
    # ERROR_CODES; errors.md lists it in its alert table.
    "INCIDENT_OPEN",
    # Status-board alert for an incident or wrap that no signed checkpoint covers
    # (the signing after its commit failed). Not an error: the action stands.
    "CHECKPOINT_MISSING",
    # Status-board alert, for a day, after `coldcheck restore` put a backup back
    # (ledger.restored). Not an error: the restore was decided and recorded.
    "LEDGER_RESTORED",
    # Status-board alerts for rentals and kits (domain/production.py: rental_alerts):
    # due back soon, a delivery differing from its manifest, a kit piece missing.
    "RENTAL_DUE_BACK",
    "RECEIPT_DIFFERENCE",
    "KIT_ACCESSORY_MISSING",
    # Status-board alert: a handler's credential expires within 30 days, or expired
    # (domain/production.py: credential_alerts). The refusal is a rule's.
    "CREDENTIAL_EXPIRING",
    # Status-board alert: the alert webhook failed to deliver (services/webhook.py:
    # failing). Not an error: what it was posting about is recorded either way.
    "WEBHOOK_FAILING",
}

CODE_RE = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")
EVENT_TYPE_RE = re.compile(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*")
FENCE_RE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
ATX_RE = re.compile(r"^\s{0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*$")
ROW_RE = re.compile(r"^\s*\|\s*`?([^`|\s]+)`?\s*\|")


# ---- markdown parsing ----------------------------------------------------------

@dataclass(frozen=True)
class Section:
    level: int
    title: str  # heading text, trailing #s and surrounding backticks removed
    body: str  # everything up to the next heading of the same or a higher level


def _lines_outside_fences(text: str) -> Iterator[tuple[str, bool]]:
    """Yield (line, in_fence); a ``#`` inside a code block is not a heading."""
    fence: str | None = None
    for line in text.splitlines():
        m = FENCE_RE.match(line)
        if m:
            marker = m.group(1)
            if fence is None:
                fence = marker[0] * len(marker)
                yield line, True
                continue
            if marker.startswith(fence):
                fence = None
                yield line, True
                continue
        yield line, fence is not None


def sections(text: str) -> list[Section]:
    heads: list[tuple[int, int, str]] = []  # (line index, level, title)
    lines = text.splitlines()
    for i, (line, fenced) in enumerate(_lines_outside_fences(text)):
        if fenced:
            continue
        m = ATX_RE.match(line)
        if not m:
            continue
        title = re.sub(r"[ \t]+#+$", "", (m.group(2) or "")).strip()
        if title.startswith("`") and title.endswith("`") and title.count("`") == 2:
            title = title[1:-1]
        heads.append((i, len(m.group(1)), title))
    out = []
    for n, (i, level, title) in enumerate(heads):
        end = len(lines)
        for j, lv, _ in heads[n + 1:]:
            if lv <= level:
                end = j
                break
        out.append(Section(level, title, "\n".join(lines[i + 1:end])))
    return out


def entries(doc: str) -> dict[str, str]:
    """The catalogue entries of a doc: every ``###`` heading that is one token,
    mapped to its section body. Duplicates are an error."""
    found: dict[str, str] = {}
    dupes = []
    for s in sections((DOCS / doc).read_text(encoding="utf-8")):
        if s.level != 3 or not s.title or re.search(r"\s", s.title):
            continue
        if s.title in found:
            dupes.append(s.title)
        found[s.title] = s.body
    assert not dupes, f"docs/{doc}: headings documented twice: {sorted(dupes)}"
    return found


def table_rows(body: str) -> list[str]:
    """First cells of the body's table rows, header and separator rows excluded."""
    rows = []
    for line, fenced in _lines_outside_fences(body):
        if fenced:
            continue
        m = ROW_RE.match(line)
        if m and not set(m.group(1)) <= set("-:") and line.split("|")[1].strip() != "Field":
            rows.append(m.group(1))
    return rows


def flat(text: str) -> str:
    return " ".join(text.split())


def compare(doc: str, documented: set[str], in_code: set[str], what: str) -> None:
    missing = sorted(in_code - documented)
    extra = sorted(documented - in_code)
    assert not missing and not extra, (
        f"docs/{doc} and {what} differ.\n"
        f"  in the code, missing from the doc: {missing}\n"
        f"  in the doc, missing from the code: {extra}")


# ---- the parser itself -------------------------------------------------------------

def test_heading_parser_skips_code_blocks_and_prose_headings() -> None:
    text = "\n".join([
        "# Title", "## Group", "### `AMMO_X` ##", "text", "```", "### NOT_A_HEADING", "```",
        "### A prose heading", "more", "   ### weapon.issued  ", "| `a` | b |", "## Next",
    ])
    got = [(s.level, s.title) for s in sections(text)]
    assert got == [(1, "Title"), (2, "Group"), (3, "AMMO_X"), (3, "A prose heading"),
                   (3, "weapon.issued"), (2, "Next")]
    assert "NOT_A_HEADING" in sections(text)[2].body
    assert table_rows("| Field | Type |\n|---|---|\n| `a` | x |\n|b|y|") == ["a", "b"]


# ---- rules.md --------------------------------------------------------------------

def test_rules_doc_lists_every_rule_code_and_nothing_else() -> None:
    compare("rules.md", set(entries("rules.md")), set(RULES), "domain.rules.RULES")


@pytest.mark.parametrize("code", sorted(RULES))
def test_rules_doc_states_each_rules_strength_text_and_override(code: str) -> None:
    body = entries("rules.md").get(code)
    if body is None:
        pytest.skip("missing heading is reported by the catalogue test")
    rule = RULES[code]
    assert flat(rule.text) in flat(body), f"rules.md: {code} does not quote the rule text"
    soft = rule.strength is Strength.SOFT
    label = "**Soft.**" if soft else "**Hard.**"
    other = "**Hard.**" if soft else "**Soft.**"
    assert label in body and other not in body, f"rules.md: {code} must be marked {label}"
    for part in ("**Why.**", "**Checked.**"):
        assert part in body, f"rules.md: {code} lacks its {part} paragraph"
    if soft:
        assert "**Override.**" in body, f"rules.md: soft rule {code} says how to override it"
        assert f"coldcheck override {code} --subject " in body
    else:
        assert "**Override.**" not in body, f"rules.md: hard rule {code} cannot be overridden"


def test_rules_doc_names_the_soft_rules_in_its_introduction() -> None:
    text = (DOCS / "rules.md").read_text(encoding="utf-8")
    intro = text.split("## The rules", 1)[0]
    soft = {c for c, r in RULES.items() if r.strength is Strength.SOFT}
    named = {c for c in CODE_RE.findall(intro) if c in RULES}
    assert soft <= named, f"rules.md introduction omits soft rules {sorted(soft - named)}"


CHECK_REF_RE = re.compile(r"`(coldcheck\.domain\.checks\.[a-z_]+\.[a-z_]+)`")


def codes_built(fn: object) -> set[str]:
    """The rule codes ``fn``'s own source passes to ``Violation(...)``."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))  # type: ignore[arg-type]
    return {str(_str(node.args[0])) for node in ast.walk(tree)
            if isinstance(node, ast.Call) and _name(node.func) == "Violation" and node.args}


@pytest.mark.parametrize("code", sorted(RULES))
def test_rules_doc_names_each_rules_checks_and_they_produce_its_code(code: str) -> None:
    """Where is rule X enforced: its Checked by line names every check that
    produces X (coldcheck.domain.checks.CHECKS), each exists, and each builds
    violations of X and of no other rule. (That each really returns them is
    tests/unit/test_checks.py.)"""
    body = entries("rules.md").get(code)
    if body is None:
        pytest.skip("missing heading is reported by the catalogue test")
    named = CHECK_REF_RE.findall(body)
    assert named, (f"rules.md: {code} names no check: add "
                   "'- **Checked by.** `coldcheck.domain.checks.<module>.<check>`'")
    for ref in named:
        module, _, attr = ref.rpartition(".")
        fn = getattr(importlib.import_module(module), attr, None)
        assert callable(fn), f"rules.md: {code} names {ref}, which does not exist"
        assert fn in CHECKS.get(code, []), f"rules.md: {ref} is not a check of {code}"
        built = codes_built(fn)
        assert built == {code}, f"rules.md: {ref} builds violations of {sorted(built)}"
    registered = {f"{f.__module__}.{f.__name__}" for f in CHECKS.get(code, [])}
    assert registered <= set(named), (
        f"rules.md: {code} does not name its checks {sorted(registered - set(named))}")


def test_every_registered_check_is_for_a_catalogued_rule() -> None:
    assert set(CHECKS) <= set(RULES), f"checks for unknown rules: {set(CHECKS) - set(RULES)}"


# ---- events.md -------------------------------------------------------------------

def test_events_doc_lists_every_event_type_and_nothing_else() -> None:
    compare("events.md", set(entries("events.md")), set(EVENT_TYPES),
            "domain.events.EVENT_TYPES")


@pytest.mark.parametrize("type_", sorted(EVENT_TYPES))
def test_events_doc_has_a_row_for_each_payload_field(type_: str) -> None:
    body = entries("events.md").get(type_)
    if body is None:
        pytest.skip("missing heading is reported by the catalogue test")
    rows = table_rows(body)
    fields = list(EVENT_TYPES[type_].fields)
    assert len(rows) == len(set(rows)), f"events.md: {type_} lists a field twice: {rows}"
    compare("events.md", set(rows), set(fields), f"the payload fields of {type_}")
    assert rows == fields, f"events.md: list the fields of {type_} in code order {fields}"


def test_events_doc_describes_the_envelope() -> None:
    text = (DOCS / "events.md").read_text(encoding="utf-8")
    envelope = next(s for s in sections(text) if s.title == "The envelope")
    rows = table_rows(envelope.body)
    compare("events.md", set(rows), {f.name for f in dataclasses.fields(Event)},
            "the fields of domain.events.Event")
    for phrase in ("keys sorted", "no insignificant whitespace", "UTF-8",
                   "no floating", "note.added", "credentials"):
        assert phrase in text, f"events.md should explain {phrase!r}"


# ---- errors.md -------------------------------------------------------------------

def test_errors_doc_lists_every_error_code_and_nothing_else() -> None:
    documented = set(entries("errors.md"))
    rules_there = sorted(documented & set(RULES))
    assert not rules_there, f"errors.md: rule codes belong in rules.md: {rules_there}"
    compare("errors.md", documented, set(ERROR_CODES), "domain.errors.ERROR_CODES")


def test_errors_doc_points_to_the_rule_catalogue() -> None:
    assert "(rules.md)" in (DOCS / "errors.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("code", sorted(ERROR_CODES))
def test_errors_doc_quotes_each_codes_text_and_kind(code: str) -> None:
    body = entries("errors.md").get(code)
    if body is None:
        pytest.skip("missing heading is reported by the catalogue test")
    assert flat(ERROR_CODES[code]) in flat(body), f"errors.md: {code} does not quote its text"
    kinds = {k for _, k in raised_codes().get(code, [])}
    for kind in sorted(kinds):
        assert f"kind `{kind}`" in flat(body).lower(), (
            f"errors.md: {code} is raised with kind {kind!r}, which decides the CLI exit "
            "code and HTTP status; say so")


def test_errors_doc_kind_table_covers_every_error_kind() -> None:
    text = (DOCS / "errors.md").read_text(encoding="utf-8")
    table = next(s for s in sections(text) if s.title == "How errors are shown")
    rows = {r for r in table_rows(table.body) if r != "Kind"}
    kinds = {cls.kind for cls in error_classes().values()}
    compare("errors.md", rows, kinds, "the kinds of the ColdcheckError classes")


def test_errors_doc_lists_the_alert_only_codes() -> None:
    text = (DOCS / "errors.md").read_text(encoding="utf-8")
    alerts = next(s for s in sections(text) if s.title.startswith("Alert codes"))
    rows = set(table_rows(alerts.body)) - {"Code"}
    assert rows >= ALERT_ONLY_CODES, "errors.md: list the alert-only codes in its alert table"
    assert rows <= ALERT_ONLY_CODES | set(RULES), "errors.md alert table: unknown code"


def test_errors_doc_lists_every_ledger_verification_code_with_its_text() -> None:
    from coldcheck.services.verify import LEDGER_ERROR_CODES

    text = (DOCS / "errors.md").read_text(encoding="utf-8")
    table = next(s for s in sections(text) if s.title.startswith("Ledger verification"))
    rows = set(table_rows(table.body)) - {"Code"}
    compare("errors.md", rows, set(LEDGER_ERROR_CODES), "services.verify.LEDGER_ERROR_CODES")
    for code, meaning in LEDGER_ERROR_CODES.items():
        assert flat(meaning) in flat(table.body), f"errors.md: {code} does not quote its text"


# ---- configuration.md ------------------------------------------------------------

def _env(name: str) -> str:
    return f"{Settings.model_config.get('env_prefix', '')}{name}".upper()


def test_configuration_doc_lists_every_setting_and_nothing_else() -> None:
    compare("configuration.md", set(entries("configuration.md")),
            set(Settings.model_fields), "config.Settings")
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    overview = text.split("\n## ", 1)[0]
    compare("configuration.md", set(table_rows(overview)) - {"Setting"},
            set(Settings.model_fields), "config.Settings (overview table)")


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_configuration_doc_gives_each_settings_variable_default_and_help(name: str) -> None:
    body = entries("configuration.md").get(name)
    if body is None:
        pytest.skip("missing heading is reported by the catalogue test")
    field = Settings.model_fields[name]
    assert f"`{_env(name)}`" in body, f"configuration.md: {name} names its variable"
    assert field.description, f"config.Settings.{name} has no description (help text)"
    assert flat(field.description) in flat(body), f"configuration.md: {name} quotes its help"
    default = field.default
    shown = "Default: none" if default is None else f"Default: `{default}`"
    assert shown in body, f"configuration.md: {name} gives its default as {shown!r}"
    for value in getattr(field.annotation, "__args__", ()):
        if isinstance(value, str):
            assert f"`{value}`" in body, f"configuration.md: {name} lists value {value!r}"


# ---- the source scan ---------------------------------------------------------------

def error_classes() -> dict[str, type[errors_module.ColdcheckError]]:
    return {name: obj for name, obj in inspect.getmembers(errors_module, inspect.isclass)
            if issubclass(obj, errors_module.ColdcheckError)}


def _str(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


@dataclass(frozen=True)
class Use:
    where: str  # path:line
    what: str  # "violation", "error", "rule", "codes", "alert", "override", "event"
    value: str
    kind: str = ""  # error kind, for raised codes


class _Scanner(ast.NodeVisitor):
    def __init__(self, path: str) -> None:
        self.path = path
        self.classes: list[str] = []
        self.uses: list[Use] = []
        self.errors = error_classes()

    def _add(self, node: ast.AST, what: str, value: str, kind: str = "") -> None:
        self.uses.append(Use(f"{self.path}:{getattr(node, 'lineno', 0)}", what, value, kind))

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.classes.append(node.name)
        self.generic_visit(node)
        self.classes.pop()

    def visit_Call(self, node: ast.Call) -> None:
        name = _name(node.func)
        first = _str(node.args[0]) if node.args else None
        if first is not None and CODE_RE.fullmatch(first):
            if name == "Violation":
                self._add(node, "violation", first)
            elif name in self.errors:
                self._add(node, "error", first, self.errors[name].kind)
            elif name == "__init__" and self.classes and self.classes[-1] in self.errors:
                self._add(node, "error", first, self.errors[self.classes[-1]].kind)
            elif name in ("has_override", "is_soft", "rule"):
                self._add(node, "override", first)
        if first is not None and name in ("ev", "NewEvent", "on", "refused_action"):
            if name == "refused_action":
                self._add(node, "event", "action.refused")
            elif EVENT_TYPE_RE.fullmatch(first):
                self._add(node, "event", first)
        for kw in node.keywords:
            if kw.arg == "rule" and _str(kw.value):
                self._add(kw.value, "rule", str(_str(kw.value)))
            if kw.arg == "codes" and isinstance(kw.value, ast.List):
                for elt in kw.value.elts:
                    if _str(elt):
                        self._add(elt, "codes", str(_str(elt)))
        self.generic_visit(node)

    def visit_Dict(self, node: ast.Dict) -> None:
        for k, v in zip(node.keys, node.values, strict=True):
            if _str(k) == "code" and _str(v):
                self._add(v, "alert", str(_str(v)))
        self.generic_visit(node)


@functools.cache
def scan() -> tuple[Use, ...]:
    uses: list[Use] = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        scanner = _Scanner(rel)
        scanner.visit(ast.parse(path.read_text(encoding="utf-8"), filename=rel))
        uses += scanner.uses
    return tuple(uses)


def raised_codes() -> dict[str, list[tuple[str, str]]]:
    """code -> [(where, kind)] for every code passed to an error class in src."""
    out: dict[str, list[tuple[str, str]]] = {}
    for u in scan():
        if u.what == "error":
            out.setdefault(u.value, []).append((u.where, u.kind))
    return out


def test_source_scan_finds_the_codes_it_should() -> None:
    """Guard against a scanner that silently matches nothing."""
    uses = scan()
    whats = {u.what for u in uses}
    assert {"violation", "error", "rule", "codes", "alert", "event"} <= whats
    assert any(u.value == "WEAPON_INVALID_TRANSITION" for u in uses)
    assert any(u.value == "CUSTODY_DIRECT_HANDOFF" and u.what == "violation" for u in uses)


def test_every_code_used_in_src_is_in_the_catalogues() -> None:
    allowed = {
        "violation": set(RULES),
        "rule": set(RULES),
        "override": set(RULES),
        "error": set(ERROR_CODES),
        "codes": set(RULES) | set(ERROR_CODES),
        "alert": set(RULES) | ALERT_ONLY_CODES,
    }
    bad: dict[str, list[str]] = {}
    for u in scan():
        if u.what in allowed and u.value not in allowed[u.what]:
            bad.setdefault(f"{u.value} ({u.what})", []).append(u.where)
    assert not bad, (
        "codes used in src that no catalogue lists (rule codes belong in "
        "domain/rules.py RULES, other error codes in domain/errors.py ERROR_CODES, "
        "and each needs an entry in docs/):\n"
        + "\n".join(f"  {k}: {', '.join(v)}" for k, v in sorted(bad.items())))


def test_every_event_type_used_in_src_is_in_the_catalogue() -> None:
    bad = sorted({f"{u.value} at {u.where}" for u in scan()
                  if u.what == "event" and u.value not in EVENT_TYPES})
    assert not bad, f"event types used in src but missing from EVENT_TYPES: {bad}"


def test_alert_only_codes_are_really_used_and_not_catalogued() -> None:
    alerts = {u.value for u in scan() if u.what == "alert"}
    stale = sorted(ALERT_ONLY_CODES - alerts)
    assert not stale, f"ALERT_ONLY_CODES lists codes src no longer uses: {stale}"
    clash = sorted(ALERT_ONLY_CODES & (set(RULES) | set(ERROR_CODES)))
    assert not clash, f"now catalogued, remove from ALERT_ONLY_CODES: {clash}"
