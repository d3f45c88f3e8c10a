"""The web app's error vocabulary is the API's: every code it can show has a
next step for the person on set, and an error renders with its code, the
rule's text, what happened and what to do next (no browser needed)."""

from __future__ import annotations

from coldcheck.domain.errors import RuleViolation, Violation
from coldcheck.services.problems import catalogue
from coldcheck.web.errors import NEXT_STEPS, Problem, known_codes
from coldcheck.web.http import render_text

HTTP_ONLY = {"ROUTE_NOT_FOUND", "METHOD_NOT_ALLOWED", "MALFORMED_JSON", "BODY_TOO_LARGE",
             "UNSUPPORTED_MEDIA_TYPE", "INTERNAL_ERROR"}


def test_every_rule_error_and_access_code_has_a_next_step_in_the_web_ui() -> None:
    missing = sorted(set(catalogue()) - HTTP_ONLY - set(NEXT_STEPS))
    assert not missing, f"codes without a next step in web/errors.py: {missing}"
    assert set(NEXT_STEPS) <= known_codes(), sorted(set(NEXT_STEPS) - known_codes())


def test_a_refusal_renders_its_code_rule_text_every_violation_and_what_to_do() -> None:
    err = RuleViolation([
        Violation("CUSTODY_WITNESS_REQUIRED", "Alex Stone (P6) has not confirmed IN3", "w:W1"),
        Violation("SCENE_SAFETY_MEETING", "scene SC4 needs a safety meeting", "scene:SC4")])
    err.details["recorded"] = [120]
    problem = Problem.from_error(err)
    assert problem.status == 409 and problem.rule == "hard"
    html = render_text("_problem.html", {"problem": problem, "page": None})
    for text in ("CUSTODY_WITNESS_REQUIRED", "(hard rule)", "each with their own PIN",
                 "Alex Stone (P6) has not confirmed IN3", "SCENE_SAFETY_MEETING",
                 "Hold today&#39;s safety meeting", "What to do next:",
                 "The performer and the 1st AD", "event #120"):
        assert text in html, text
    assert 'role="alert"' in html
