"""Every custody action of the CLI, one POST each. The caller's person is the
actor (the armorer who inspects, issues, receives; the 1st AD who plans …);
people named in the body are the other party (the performer, the witness).
Witnesses and signers prove presence with their own PIN in the body."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

from fastapi import Depends, Path
from starlette.responses import Response

from ...services import actions as a
from ..auth import Call, Writer
from ..schemas import (
    AcknowledgeIn,
    BriefingIn,
    ClassifyIn,
    CloseIncidentIn,
    ComplaintIn,
    CredentialIn,
    DayIn,
    DestroyIn,
    DudIn,
    EvidenceIn,
    GroundIn,
    HandoffIn,
    IncidentIn,
    InspectionIn,
    IssueIn,
    LotIn,
    MaintenanceIn,
    MealBreakIn,
    MeetingIn,
    NoteIn,
    OverrideIn,
    PersonIn,
    PinIn,
    QualificationIn,
    Recorded,
    RepairIn,
    ReturnIn,
    RevokeCredentialIn,
    SceneIn,
    StorageIn,
    StoreIn,
    TimezoneIn,
    VerifyIn,
    WeaponIn,
    WitnessIn,
    WrapIn,
)
from . import router

PREFIX = "/api/v1/productions/{production}"
TAGS: list[str | Enum] = ["custody"]


def ident(what: str) -> Any:
    return Path(min_length=1, max_length=32, description=f"{what} id")


WeaponId = Annotated[str, ident("Weapon")]
LotId = Annotated[str, ident("Lot")]
PersonId = Annotated[str, ident("Person")]
SceneId = Annotated[str, ident("Scene")]
InspectionId = Annotated[str, ident("Inspection")]
IncidentId = Annotated[str, ident("Incident")]
ComplaintId = Annotated[str, ident("Complaint")]
CredentialId = Annotated[str, ident("Credential")]


def act(action: str) -> Any:
    return Depends(Writer(action))


# ---- people ---------------------------------------------------------------------
@router.post(PREFIX + "/people", tags=TAGS,
             response_model=Recorded, summary="Add a person with roles and a PIN")
def add_person(body: PersonIn, call: Annotated[Call, act("person.add")]) -> Response:
    return call.record(lambda ctx: a.add_person(
        ctx, name=body.name, roles=list(body.roles), badge=body.badge, pin=body.pin,
        department=body.department, qualification_expires=body.qualification_expires,
        actor=call.person))


@router.post(PREFIX + "/people/{person}/briefings", tags=TAGS, response_model=Recorded,
             summary="Record a weapons-safety briefing given by the caller")
def brief(person: PersonId, body: BriefingIn,
          call: Annotated[Call, act("person.brief")]) -> Response:
    return call.record(lambda ctx: a.brief(ctx, person=person, briefed_by=call.person,
                                           topic=body.topic))


@router.post(PREFIX + "/people/{person}/qualification", tags=TAGS, response_model=Recorded,
             summary="Record an armorer's renewed qualification")
def renew(person: PersonId, body: QualificationIn,
          call: Annotated[Call, act("person.renew_qualification")]) -> Response:
    return call.record(lambda ctx: a.renew_qualification(ctx, person=person,
                                                         expires=body.expires,
                                                         actor=call.person))


@router.post(PREFIX + "/people/{person}/credentials", tags=TAGS, response_model=Recorded,
             summary="Record a handler's credential: the weapon classes it covers, its expiry")
def add_credential(person: PersonId, body: CredentialIn,
                   call: Annotated[Call, act("person.credential")]) -> Response:
    return call.record(lambda ctx: a.add_credential(
        ctx, person=person, type_=body.type, issuer=body.issuer, number=body.number,
        classes=list(body.classes), expires=body.expires, actor=call.person))


@router.post(PREFIX + "/people/{person}/credentials/{credential}/revocation", tags=TAGS,
             response_model=Recorded, summary="Revoke a handler's credential")
def revoke_credential(person: PersonId, credential: CredentialId, body: RevokeCredentialIn,
                      call: Annotated[Call, act("person.credential")]) -> Response:
    return call.record(lambda ctx: a.revoke_credential(
        ctx, person=person, credential=credential, reason=body.reason, actor=call.person))


@router.post(PREFIX + "/me/pin", tags=TAGS, response_model=Recorded,
             summary="Set or change your own witness PIN")
def set_own_pin(body: PinIn, call: Annotated[Call, act("person.set_own_pin")]) -> Response:
    return call.record(lambda ctx: a.set_own_pin(ctx, person=call.person, pin=body.pin,
                                                 current_pin=body.current_pin))


@router.post(PREFIX + "/storage", tags=TAGS,
             response_model=Recorded, summary="Register a safe or lockable cart")
def add_storage(body: StorageIn, call: Annotated[Call, act("storage.add")]) -> Response:
    return call.record(lambda ctx: a.add_storage(ctx, name=body.name, kind=body.kind,
                                                 actor=call.person))


@router.post(PREFIX + "/timezone", tags=TAGS, response_model=Recorded,
             summary="Set the production's time zone (the producer): pages, CLI output and "
                     "today's date follow it; the record stays UTC")
def set_timezone(body: TimezoneIn,
                 call: Annotated[Call, act("production.set_timezone")]) -> Response:
    return call.record(lambda ctx: a.set_timezone(ctx, timezone=body.timezone,
                                                  actor=call.person))


# ---- weapons and ammunition ------------------------------------------------------
@router.post(PREFIX + "/weapons", tags=TAGS, response_model=Recorded,
             summary="Take a weapon into inventory, into storage")
def receive_weapon(body: WeaponIn, call: Annotated[Call, act("weapon.receive")]) -> Response:
    return call.record(lambda ctx: a.receive_weapon(
        ctx, armorer=call.person, serial=body.serial, make=body.make, model=body.model,
        calibre=body.calibre, kind=body.kind, chambers=body.chambers,
        magazine_capacity=body.magazine_capacity, storage=body.storage))


@router.post(PREFIX + "/lots", tags=TAGS, response_model=Recorded,
             summary="Take an ammunition lot into inventory (live is refused and recorded)")
def receive_lot(body: LotIn, call: Annotated[Call, act("lot.receive")]) -> Response:
    return call.record(lambda ctx: a.receive_lot(
        ctx, armorer=call.person, kind=body.kind, calibre=body.calibre,
        supplier=body.supplier, supplier_lot=body.supplier_lot, count=body.count,
        storage=body.storage, load=body.load, found_in=body.found_in))


@router.post(PREFIX + "/lots/{lot}/verifications", tags=TAGS, response_model=Recorded,
             summary="Verify dummy rounds one by one")
def verify_rounds(lot: LotId, body: VerifyIn,
                  call: Annotated[Call, act("lot.verify")]) -> Response:
    return call.record(lambda ctx: a.verify_rounds(
        ctx, lot=lot, count=body.count, method=body.method, armorer=call.person,
        failed_finding=body.failed_finding))


@router.post(PREFIX + "/lots/{lot}/destructions", tags=TAGS, response_model=Recorded,
             summary="Destroy rounds from a lot")
def destroy_rounds(lot: LotId, body: DestroyIn,
                   call: Annotated[Call, act("lot.destroy")]) -> Response:
    return call.record(lambda ctx: a.destroy_rounds(ctx, lot=lot, count=body.count,
                                                    reason=body.reason, armorer=call.person))


# ---- the shooting day ------------------------------------------------------------
@router.post(PREFIX + "/days", tags=TAGS, response_model=Recorded, summary="Open a shooting day")
def open_day(body: DayIn, call: Annotated[Call, act("day.open")]) -> Response:
    return call.record(lambda ctx: a.open_day(ctx, date=body.date, actor=call.person))


@router.post(PREFIX + "/days/current/meal-break", tags=TAGS, response_model=Recorded,
             summary="Start or end a meal break")
def meal_break(body: MealBreakIn, call: Annotated[Call, act("day.meal_break")]) -> Response:
    return call.record(lambda ctx: a.meal_break(ctx, start=body.start, actor=call.person))


@router.post(PREFIX + "/scenes", tags=TAGS,
             response_model=Recorded, summary="Plan a scene on the open day")
def plan_scene(body: SceneIn, call: Annotated[Call, act("scene.plan")]) -> Response:
    return call.record(lambda ctx: a.plan_scene(
        ctx, actor=call.person, name=body.name, hot=body.hot, rehearsal=body.rehearsal,
        weapons=list(body.weapons), performers=list(body.performers),
        pointing=body.pointing_description is not None,
        pointing_description=body.pointing_description or "",
        overdue_minutes=body.overdue_minutes, min_distance_m=body.min_distance_m,
        shielded=body.shielded))


@router.post(PREFIX + "/scenes/{scene}/pointing-acknowledgements", tags=TAGS,
             response_model=Recorded,
             summary="Acknowledge a scene's pointing plan (armorer or 1st AD)")
def acknowledge_pointing(scene: SceneId,
                         call: Annotated[Call, act("scene.acknowledge_pointing")]) -> Response:
    return call.record(lambda ctx: a.acknowledge_pointing(ctx, scene=scene,
                                                          person=call.person))


@router.post(PREFIX + "/meetings", tags=TAGS, response_model=Recorded,
             summary="Record a safety meeting led by the caller, with attendance")
def hold_meeting(body: MeetingIn, call: Annotated[Call, act("meeting.hold")]) -> Response:
    return call.record(lambda ctx: a.hold_meeting(ctx, scenes=list(body.scenes),
                                                  attendees=list(body.attendees),
                                                  led_by=call.person))


@router.post(PREFIX + "/wrap", tags=TAGS, response_model=Recorded,
             summary="Wrap the day: every weapon stored, every lot balanced and counted")
def wrap(body: WrapIn, call: Annotated[Call, act("day.wrap")]) -> Response:
    return call.record(lambda ctx: a.wrap(ctx, armorer=call.person,
                                          counts=dict(body.counts) if body.counts else None))


# ---- the handoff ---------------------------------------------------------------
@router.post(PREFIX + "/weapons/{weapon}/inspections", tags=TAGS, response_model=Recorded,
             summary="Record the armorer's show-clear inspection, position by position")
def inspect(weapon: WeaponId, body: InspectionIn,
            call: Annotated[Call, act("weapon.inspect")]) -> Response:
    return call.record(lambda ctx: a.inspect_weapon(
        ctx, weapon=weapon, armorer=call.person,
        positions=[p.model_dump() for p in body.positions], barrel_clear=body.barrel_clear,
        magazine_checked=body.magazine_checked, lot=body.lot,
        magazine_rounds=body.magazine_rounds, scene=body.scene))


@router.post(PREFIX + "/inspections/{inspection}/witnesses", tags=TAGS, response_model=Recorded,
             summary="A witness confirms an inspection with their own PIN")
def witness(inspection: InspectionId, body: WitnessIn,
            call: Annotated[Call, act("inspection.witness")]) -> Response:
    return call.record(lambda ctx: a.witness_inspection(
        ctx, inspection=inspection, witness=body.witness, pin=body.pin, role=body.role))


@router.post(PREFIX + "/weapons/{weapon}/issue", tags=TAGS, response_model=Recorded,
             summary="Armorer → performer, after a witnessed inspection")
def issue(weapon: WeaponId, body: IssueIn,
          call: Annotated[Call, act("weapon.issue")]) -> Response:
    return call.record(lambda ctx: a.issue_weapon(ctx, weapon=weapon, armorer=call.person,
                                                  performer=body.performer,
                                                  scene=body.scene))


@router.post(PREFIX + "/weapons/{weapon}/return", tags=TAGS, response_model=Recorded,
             summary="Performer → armorer; the armorer unloads and counts")
def return_weapon(weapon: WeaponId, body: ReturnIn,
                  call: Annotated[Call, act("weapon.return")]) -> Response:
    return call.record(lambda ctx: a.return_weapon(
        ctx, weapon=weapon, performer=body.performer, armorer=call.person, fired=body.fired,
        lost=body.lost, misfire=body.misfire,
        missing_accessories=list(body.missing_accessories) or None))


@router.post(PREFIX + "/weapons/{weapon}/dud", tags=TAGS, response_model=Recorded,
             summary="A round failed to fire: a routine blank dud in a planned take, "
                     "or a misfire incident that freezes the weapon")
def record_dud(weapon: WeaponId, body: DudIn,
               call: Annotated[Call, act("weapon.dud")]) -> Response:
    return call.record(lambda ctx: a.record_dud(ctx, weapon=weapon, armorer=call.person,
                                                description=body.description))


@router.post(PREFIX + "/weapons/{weapon}/cleanings", tags=TAGS, response_model=Recorded,
             summary="After-use cleaning (a function check is then due before next issue)")
def clean_weapon(weapon: WeaponId, body: MaintenanceIn,
                 call: Annotated[Call, act("weapon.clean")]) -> Response:
    return call.record(lambda ctx: a.clean_weapon(ctx, weapon=weapon, armorer=call.person,
                                                  notes=body.notes))


@router.post(PREFIX + "/weapons/{weapon}/function-checks", tags=TAGS, response_model=Recorded,
             summary="A before-use function check, passed")
def function_check(weapon: WeaponId, body: MaintenanceIn,
                   call: Annotated[Call, act("weapon.function_check")]) -> Response:
    return call.record(lambda ctx: a.function_check(ctx, weapon=weapon, armorer=call.person,
                                                    notes=body.notes))


@router.post(PREFIX + "/weapons/{weapon}/grounding", tags=TAGS, response_model=Recorded,
             summary="Ground a damaged or suspect weapon: armorer and safety supervisor PINs")
def ground_weapon(weapon: WeaponId, body: GroundIn,
                  call: Annotated[Call, act("weapon.ground")]) -> Response:
    return call.record(lambda ctx: a.ground_weapon(
        ctx, weapon=weapon, reason=body.reason, armorer=body.armorer,
        armorer_pin=body.armorer_pin, supervisor=body.supervisor,
        supervisor_pin=body.supervisor_pin))


@router.post(PREFIX + "/weapons/{weapon}/repairs", tags=TAGS, response_model=Recorded,
             summary="Record a repair: a grounded weapon goes back into service")
def repair_weapon(weapon: WeaponId, body: RepairIn,
                  call: Annotated[Call, act("weapon.repair")]) -> Response:
    return call.record(lambda ctx: a.repair_weapon(ctx, weapon=weapon, armorer=call.person,
                                                   repair=body.repair))


@router.post(PREFIX + "/weapons/{weapon}/handoffs", tags=TAGS, response_model=Recorded,
             summary="Any transfer from the caller to someone else (refused and recorded "
                     "unless armorer → performer or performer → armorer)")
def handoff(weapon: WeaponId, body: HandoffIn,
            call: Annotated[Call, act("weapon.handoff")]) -> Response:
    return call.record(lambda ctx: a.handoff(ctx, weapon=weapon, from_=call.person, to=body.to,
                                             scene=body.scene))


@router.post(PREFIX + "/weapons/{weapon}/class", tags=TAGS, response_model=Recorded,
             summary="Record a weapon's class (handgun, long gun, full-auto), which a "
                     "property master's credential must cover")
def classify(weapon: WeaponId, body: ClassifyIn,
             call: Annotated[Call, act("weapon.classify")]) -> Response:
    return call.record(lambda ctx: a.classify_weapon(ctx, weapon=weapon,
                                                     weapon_class=body.weapon_class,
                                                     armorer=call.person))


@router.post(PREFIX + "/weapons/{weapon}/store", tags=TAGS, response_model=Recorded,
             summary="Lock a weapon in storage")
def store(weapon: WeaponId, body: StoreIn,
          call: Annotated[Call, act("weapon.store")]) -> Response:
    return call.record(lambda ctx: a.store_weapon(ctx, weapon=weapon, storage=body.storage,
                                                  armorer=call.person))


@router.post(PREFIX + "/weapons/{weapon}/evidence", tags=TAGS, response_model=Recorded,
             summary="Record one round unloaded from a frozen weapon as evidence")
def record_evidence(weapon: WeaponId, body: EvidenceIn,
                    call: Annotated[Call, act("weapon.record_evidence")]) -> Response:
    return call.record(lambda ctx: a.record_evidence(
        ctx, weapon=weapon, incident=body.incident, position=body.position,
        description=body.description, armorer=call.person))


# ---- incidents, complaints, overrides, notes -------------------------------------
@router.post(PREFIX + "/incidents", tags=TAGS, response_model=Recorded,
             summary="Open an incident; it freezes the weapons and lots it names")
def report_incident(body: IncidentIn,
                    call: Annotated[Call, act("incident.report")]) -> Response:
    return call.record(lambda ctx: a.report_incident(
        ctx, kind=body.kind, description=body.description, weapons=list(body.weapons),
        lots=list(body.lots), reported_by=call.person))


@router.post(PREFIX + "/incidents/{incident}/close", tags=TAGS, response_model=Recorded,
             summary="Close an incident: corrective action, armorer and supervisor PINs")
def close_incident(incident: IncidentId, body: CloseIncidentIn,
                   call: Annotated[Call, act("incident.close")]) -> Response:
    return call.record(lambda ctx: a.close_incident(
        ctx, incident=incident, corrective_action=body.corrective_action,
        armorer=body.armorer, armorer_pin=body.armorer_pin, supervisor=body.supervisor,
        supervisor_pin=body.supervisor_pin))


@router.post(PREFIX + "/complaints", tags=TAGS,
             response_model=Recorded, summary="File a safety complaint")
def file_complaint(body: ComplaintIn,
                   call: Annotated[Call, act("complaint.file")]) -> Response:
    return call.record(lambda ctx: a.file_complaint(ctx, by=call.person, text=body.text))


@router.post(PREFIX + "/complaints/{complaint}/acknowledgement", tags=TAGS, response_model=Recorded,
             summary="Acknowledge a safety complaint")
def acknowledge_complaint(complaint: ComplaintId, body: AcknowledgeIn,
                          call: Annotated[Call, act("complaint.acknowledge")]) -> Response:
    return call.record(lambda ctx: a.acknowledge_complaint(ctx, complaint=complaint,
                                                           by=call.person,
                                                           response=body.response))


@router.post(PREFIX + "/overrides", tags=TAGS, response_model=Recorded,
             summary="The safety supervisor bends a SOFT rule for one subject")
def override(body: OverrideIn, call: Annotated[Call, act("rule.override")]) -> Response:
    return call.record(lambda ctx: a.override(ctx, rule=body.rule, subject=body.subject,
                                              reason=body.reason, supervisor=call.person))


@router.post(PREFIX + "/notes", tags=TAGS, response_model=Recorded,
             summary="Add a correction or remark about an earlier event")
def add_note(body: NoteIn, call: Annotated[Call, act("note.add")]) -> Response:
    return call.record(lambda ctx: a.add_note(ctx, refers_to=body.refers_to, text=body.text,
                                              actor=call.person))
