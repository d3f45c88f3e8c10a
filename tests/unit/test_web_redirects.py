"""Where sign-in may send a browser afterwards: only a path on this site."""

from __future__ import annotations

import pytest

from coldcheck.web.views.auth import _safe_next


@pytest.mark.parametrize("raw", [
    "//evil.example", "/\\evil.example", "https://evil.example/", "http:/x", "evil",
    "/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "/ /evil.example", "",
    "javascript:alert(1)", "/\x00/x",
])
def test_anything_but_a_plain_local_path_goes_to_the_productions(raw: str) -> None:
    assert _safe_next(raw) == "/productions"


@pytest.mark.parametrize("raw", ["/p/dusty-trails/board", "/p/x/weapons?done=3-4",
                                 "/productions"])
def test_a_local_path_is_kept(raw: str) -> None:
    assert _safe_next(raw) == raw
