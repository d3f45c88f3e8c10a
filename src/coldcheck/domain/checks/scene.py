"""Hot scenes, safety meetings, pointing plans, blank distances, rehearsals."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import Violation
from . import produces

if TYPE_CHECKING:
    from ..incidents import Inspection
    from ..scenes import Scene
    from ..state import ProductionState
    from ..weapons import Weapon


@produces("SCENE_BLANKS_NEED_HOT")
def blanks_loaded_for_hot(scene: Scene, content: str) -> list[Violation]:
    """At inspection: blanks are loaded only for a scene declared hot."""
    if content != "blank" or scene.hot:
        return []
    return [Violation("SCENE_BLANKS_NEED_HOT",
                      f"scene {scene.id} is cold; blanks need a hot scene", f"scene:{scene.id}")]


@produces("SCENE_BLANKS_NEED_HOT")
def blanks_issued_for_hot(weapon: Weapon, scene: Scene) -> list[Violation]:
    """At issue: a weapon holding blanks goes only to a hot scene."""
    if weapon.load_kind != "blank" or scene.hot:
        return []
    return [Violation("SCENE_BLANKS_NEED_HOT", f"weapon {weapon.id} holds blanks; scene "
                      f"{scene.id} is cold", f"scene:{scene.id}")]


def in_scene(sc: Scene, *, armorer: str, performer: str,
             inspection: Inspection | None) -> set[str]:
    """Everyone the record puts in a scene when a weapon is issued for it: the
    performers planned in it, the performer receiving the weapon, the armorer
    issuing it, and the armorer who showed it clear and the witnesses who
    confirmed that inspection (the performer and the 1st AD or safety
    supervisor). A scene records no other crew."""
    people = set(sc.performers) | {performer, armorer}
    if inspection is not None:
        people |= {inspection.armorer} | {x["person"] for x in inspection.witnesses}
    return people


def missed_meeting(s: ProductionState, sc: Scene, people: set[str]) -> list[str]:
    """Who of ``people`` attended no safety meeting on the scene's day (for a hot
    scene: no meeting that names it), in id order."""
    attended: set[str] = set()
    for m in s.meetings.values():
        if m.day == sc.day and (not sc.hot or sc.id in m.scenes):
            attended |= set(m.attendees)
    return sorted(people - attended)


@produces("SCENE_SAFETY_MEETING")
def safety_meeting(s: ProductionState, scene: Scene, people: set[str]) -> list[Violation]:
    """At issue: everyone in the scene (``people``, see :func:`in_scene`)
    attended a safety meeting that day, one naming the scene if it is hot."""
    sc = scene
    missed = missed_meeting(s, sc, people)
    if not missed:
        return []
    return [Violation("SCENE_SAFETY_MEETING",
                      f"scene {sc.id} needs a safety meeting today attended by everyone "
                      "in it" + (" and naming the scene (it is hot)" if sc.hot else "")
                      + "; not recorded at one: " + ", ".join(
                          f"{s.people[i].name} ({i})" for i in missed),
                      f"scene:{sc.id}")]


@produces("SCENE_BLANK_DISTANCE")
def blank_distance(weapon: Weapon, scene: Scene) -> list[Violation]:
    """At issue, with blanks: nobody in the line of fire closer than 6 m (20 ft)
    unless behind a shield."""
    sc = scene
    if weapon.load_kind != "blank" or sc.shielded or (
            sc.min_distance_m is not None and sc.min_distance_m >= 6):
        return []
    return [Violation("SCENE_BLANK_DISTANCE",
                      f"scene {sc.id}: nearest person in the line of fire is "
                      f"{sc.min_distance_m if sc.min_distance_m is not None else '?'} m; "
                      "6 m (20 ft) or a shield is required", f"scene:{sc.id}")]


@produces("SCENE_REHEARSAL_REPLICA")
def rehearsal_replica(scene: Scene) -> list[Violation]:
    """At issue of a firearm: rehearsals use non-firing replicas or rubber weapons."""
    if not scene.rehearsal:
        return []
    return [Violation("SCENE_REHEARSAL_REPLICA",
                      f"scene {scene.id} is a rehearsal: use a non-firing replica or "
                      "rubber weapon", f"scene:{scene.id}")]


@produces("SCENE_POINTING_PLAN")
def pointing_acknowledged(scene: Scene) -> list[Violation]:
    """At issue for a scene that points a weapon at or near a person: the plan is
    acknowledged by the armorer and the 1st AD."""
    sc = scene
    missing = [r for r in ("armorer", "first_ad") if r not in sc.pointing_acks]
    if not sc.pointing or not missing:
        return []
    return [Violation("SCENE_POINTING_PLAN",
                      f"scene {sc.id} points a weapon at or near a person; the plan "
                      f"is not acknowledged by {' and '.join(missing)}", f"scene:{sc.id}")]


@produces("SCENE_POINTING_PLAN")
def pointing_without_blanks(weapon: Weapon, scene: Scene) -> list[Violation]:
    """At issue for a pointing scene: the firearm is empty or holds verified
    dummies, never blanks (a replica passes)."""
    sc, w = scene, weapon
    if not sc.pointing or not w.is_firearm or w.load_kind != "blank":
        return []
    return [Violation("SCENE_POINTING_PLAN",
                      f"scene {sc.id} points at a person: weapon {w.id} must be empty "
                      "or hold verified dummies, not blanks", f"scene:{sc.id}")]
