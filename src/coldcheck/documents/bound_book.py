"""The bound book as PDF: acquisitions and dispositions, one line per weapon,
corrections as entries of their own (services/books.py builds it)."""

from __future__ import annotations

from ..services.books import BoundBook
from .pdf import PAPER, _env, check_paper, write_pdf


def render_bound_book_html(book: BoundBook, *, paper: str = "a4") -> str:
    paper = check_paper(paper)
    return _env.get_template("bound_book.html").render(
        {"b": book, "page_size": f"{PAPER[paper][0]} landscape"})


def render_bound_book(book: BoundBook, *, paper: str = "a4") -> bytes:
    """The bound book as PDF bytes (landscape)."""
    return write_pdf(render_bound_book_html(book, paper=paper))
