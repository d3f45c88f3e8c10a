"""Labels as PDF: QR stickers for weapons and ammunition boxes, badges for people.

``sheet`` is every chosen label on A4 or letter paper, in a grid to cut out (the
default: every weapon, lot and person). The sticker sizes print one label per
page, the page being the sticker, for label printers:

* ``2x1in``: 2 × 1 inch (144 × 72 pt), the common thermal label;
* ``62mm``: 62 × 29 mm, the common die-cut label of 62 mm roll printers.

A label's QR code holds what the scanner resolves (``weapon:W1``, ``lot:L1``, or
a person's badge code); the text beside it says the same in words. Nothing but
the data: URIs of the QR codes is fetched while rendering."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..domain.errors import InvalidInput, NotFound
from ..domain.state import ProductionState
from .daily import KIND_WORDS
from .pdf import PAPER, _env, check_paper, qr_data_uri
from .wording import roles_words, round_words

# name -> (CSS page size, page width, page height, QR side), in mm; sheet: the paper's
SIZES: dict[str, tuple[str, float, float, float]] = {
    "2x1in": ("50.8mm 25.4mm", 50.8, 25.4, 22.0),
    "62mm": ("62mm 29mm", 62.0, 29.0, 26.0),
}
SIZE_NAMES = ("sheet", *SIZES)
# The sheet's grid, in mm: labels of one size, left to right then top to bottom,
# so that a guillotine cuts them apart (and a test finds each one).
SHEET = {"margin": 10.0, "width": 60.0, "height": 31.0, "gap": 3.0, "qr": 25.0}
# No-break spaces: a line never starts or ends with the separator (a label too
# narrow for "L2 · BLANKS" breaks inside a part, never beside the dot).
SEP = "\u00a0·\u00a0"


@dataclass(frozen=True)
class Label:
    kind: str  # weapon, lot or person
    id: str
    title: str
    lines: tuple[str, ...]  # under the title, each printed only if it says something
    data: str  # what the QR code holds


def check_size(size: str) -> str:
    s = (size or "").strip().lower()
    if s not in SIZE_NAMES:
        raise InvalidInput("INVALID_INPUT", f"size is one of {', '.join(SIZE_NAMES)}, "
                           f"not {size!r}", field="size", allowed=list(SIZE_NAMES))
    return s


def joined(*parts: str | None) -> str:
    """The parts that say something, with a separator between them only: never a
    separator at either end or two in a row."""
    return SEP.join(p.strip() for p in parts if p and p.strip())


def all_labels(st: ProductionState) -> list[Label]:
    """Every label of the production: weapons, then lots, then people's badges."""
    out = [weapon_label(st, w) for w in st.weapons]
    out += [lot_label(st, lt) for lt in st.lots]
    out += [person_label(st, p) for p in st.people]
    return out


def weapon_label(st: ProductionState, ident: str) -> Label:
    w = st.weapon(ident)
    what = f"{w.make} {w.model}".strip()
    kind = KIND_WORDS.get(w.kind, w.kind.replace("_", " "))
    # The serial on a line of its own: beside the id, a narrow sticker broke it at
    # a hyphen ("COLT-" / "SAA-5521"), and a serial is read character by character.
    return Label("weapon", w.id, w.id,
                 (joined(f"S/N {w.serial}" if w.serial else None), what,
                  joined(kind, w.calibre if w.is_firearm else None)), f"weapon:{w.id}")


def lot_label(st: ProductionState, ident: str) -> Label:
    lt = st.lot(ident)
    what = round_words(lt.kind) + (f" ({lt.load} load)" if lt.load else "")
    return Label("lot", lt.id, joined(lt.id, what.upper()),
                 (joined(lt.calibre, lt.supplier_lot), joined(lt.supplier)), f"lot:{lt.id}")


def person_label(st: ProductionState, ident: str) -> Label:
    p = st.person(ident)
    return Label("person", p.id, p.name, (joined(roles_words(p.roles)), joined(p.badge)),
                 p.badge)


TABLES: dict[str, Callable[[ProductionState], Mapping[str, Any]]] = {
    "weapon": lambda st: st.weapons, "lot": lambda st: st.lots, "person": lambda st: st.people}
MAKERS: dict[str, Callable[[ProductionState, str], Label]] = {
    "weapon": weapon_label, "lot": lot_label, "person": person_label}


def choose(st: ProductionState, ids: Sequence[str] | None) -> list[Label]:
    """The labels named by ``ids`` (``W1``, ``L2``, ``P3``, or ``weapon:W1`` as the
    QR codes say), in the order given, each once; none named: every label.
    An id that names nothing is NOT_FOUND."""
    wanted = [i.strip() for i in ids or [] if i and i.strip()]
    if not wanted:
        return all_labels(st)
    out: list[Label] = []
    for raw in wanted:
        kind, sep, ident = raw.partition(":")
        ident = (ident if sep else raw).strip().upper()
        kinds = [kind.lower()] if sep else ["weapon", "lot", "person"]
        label = None
        for k in kinds:
            table: Mapping[str, Any] = TABLES[k](st) if k in TABLES else {}
            if ident in table:
                label = MAKERS[k](st, ident)
                break
        if label is None:
            raise NotFound("weapon, lot or person", raw[:40])
        if label not in out:
            out.append(label)
    return out


def render_labels_html(labels: Sequence[Label], *, size: str = "sheet",
                       paper: str = "a4") -> str:
    size, paper = check_size(size), check_paper(paper)
    if size == "sheet":
        page, width, height, qr_mm = PAPER[paper][0], SHEET["width"], SHEET["height"], \
            SHEET["qr"]
    else:
        page, width, height, qr_mm = SIZES[size]
    items = [{"l": lb, "qr": qr_data_uri(lb.data, eci=False), "lines": [x for x in lb.lines if x]}
             for lb in labels]
    return _env.get_template("labels.html").render(
        items=items, size=size, page_size=page, width=width, height=height, qr_mm=qr_mm,
        sheet=SHEET)


def render_labels_pdf(labels: Sequence[Label], *, size: str = "sheet",
                      paper: str = "a4") -> bytes:
    """The labels as PDF bytes: a sheet, or one sticker per page."""
    from .pdf import write_pdf

    return write_pdf(render_labels_html(labels, size=size, paper=paper))
