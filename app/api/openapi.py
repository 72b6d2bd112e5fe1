"""The OpenAPI 3.1 document of /api/v1, written by hand and served at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from . import bp

ERROR = {"$ref": "#/components/responses/Error"}
OBJECT = {"type": "object"}


ID = {"type": "integer", "minimum": 0, "maximum": 2 ** 31 - 1}  # ids: 32-bit columns


def _param(name: str, kind: str = "string", where: str = "path", text: str = "", required: bool | None = None,
           **schema: Any) -> dict:
    """A parameter; path parameters are required, query parameters only when ``required``."""
    spec = dict(ID) if kind == "integer" else {"type": kind}
    spec.update(schema)
    return {"name": name, "in": where, "required": where == "path" if required is None else required,
            "schema": spec, **({"description": text} if text else {})}


def _text(limit: int = 200, **extra: Any) -> dict:
    return {"type": "string", "maxLength": limit, **extra}


def _body(required: tuple[str, ...] = (), **properties: dict) -> dict:
    """An object body with its properties (and no others)."""
    return {"type": "object", "required": list(required), "properties": properties, "additionalProperties": False}


#: What an answer's body is, for the operations that do not answer JSON.
CONTENT = {"zip": {"application/zip": {"schema": {"type": "string", "contentMediaType": "application/zip"}}},
           "xml": {"application/xml": {"schema": {"type": "string", "contentMediaType": "application/xml"}}},
           "file": {mime: {"schema": {"type": "string", "contentMediaType": mime}}
                    for mime in ("application/pdf", "image/png", "image/jpeg", "application/ofd")}}


def _op(summary: str, tag: str, *params: dict, body: dict | None = None, ok: str = "200", public: bool = False,
        multipart: bool = False, errors: tuple[str, ...] = ("400", "403", "404", "422"),
        answer: str = "json", body_required: bool = True) -> dict:
    """One operation with a JSON (or multipart) body and the error envelope on failure.

    Every operation may answer 400 (a body or parameter no service could store, app.hardening)
    and, unless public, 401 (no valid token).
    """
    if ok == "204":
        success = {"description": "Done, no content"}
    elif answer == "json":
        success = {"description": "OK", "content": {"application/json": {"schema": OBJECT}}}
    else:
        success = {"description": "OK", "content": CONTENT[answer]}
    operation: dict[str, Any] = {"summary": summary, "tags": [tag], "parameters": list(params),
                                 "responses": {ok: success}}
    for status in sorted({"400", *errors, *(() if public else ("401",))}):
        operation["responses"][status] = ERROR
    if body is not None:
        kind = "multipart/form-data" if multipart else "application/json"
        operation["requestBody"] = {"required": body_required, "content": {kind: {"schema": body}}}
    if public:
        operation["security"] = []
    return operation


CODE, TASK = _param("code", text="project code (any level of the 三级工程码)"), _param("task_id", "integer")
PAGE = _param("page", "integer", "query", minimum=1)
DATA_BODY = {"type": "object", "required": ["data"], "properties": {"data": {
    "type": "object", "description": "the form's fields, as the form's JSON Schema (in the task or stage) says"}}}
DATE_LIST = {"type": "array", "items": {"type": "string", "format": "date"}}
PROJECT_BODY = _body(("name", "division", "investment_type"), name=_text(200, minLength=2),
                     division=_text(12, description="division code, e.g. 460100"),
                     investment_type={"enum": ["government", "ratification", "filing"]},
                     flow_type={"type": "integer", "minimum": 1, "maximum": 10},
                     code=_text(24, description="a project code already issued (checked against division and type)"),
                     enterprise_id={**ID, "description": "the enterprise (windows and administrators)"})
ENTERPRISE_BODY = _body(("enterprise_name", "credit_code", "username", "display_name", "password",
                         "password_confirm"),
                        enterprise_name=_text(200), credit_code=_text(18, description="GB 32100-2015"),
                        username=_text(40), display_name=_text(100), password=_text(128),
                        password_confirm=_text(128))
NAMES = {"type": "array", "items": _text(100, minLength=1), "minItems": 1}
EXPORT_PARAMS = tuple(_param(name, where="query", text=text) for name, text in (
    ("from", "ISO 8601 start (default: a year before to)"), ("to", "ISO 8601 end (default: now)"),
    ("division", "division code; supervisors: their own city"), ("item", "item code"), ("stage", "stage key")))


def _paths() -> dict[str, dict]:
    return {
        "/auth/token": {"post": _op("Exchange user name and password for a bearer token (throttled)", "accounts",
                                    body={"type": "object", "required": ["username", "password"],
                                          "properties": {"username": {"type": "string"},
                                                         "password": {"type": "string"}}}, public=True,
                                    errors=("400", "401", "422", "429"))},
        "/auth/tokens": {"get": _op("The caller's own tokens that still work (ids and times, never the tokens)",
                                    "accounts", errors=("401",))},
        "/auth/tokens/{token_id}": {"delete": _op("Revoke one of the caller's own tokens", "accounts",
                                                  _param("token_id", "integer"), ok="204",
                                                  errors=("401", "404"))},
        "/auth/password": {"post": _op("Change the caller's password; every session and token of the account ends",
                                       "accounts", body={"type": "object", "required": ["current", "new", "confirm"],
                                                         "properties": {"current": {"type": "string"},
                                                                        "new": {"type": "string"},
                                                                        "confirm": {"type": "string"}}},
                                       ok="204", errors=("400", "401", "422"))},
        "/users": {"get": _op("Every account with role, unit and division (administrators)", "accounts")},
        "/me": {"get": _op("The caller's account", "accounts")},
        "/enterprises": {"post": _op("Register an enterprise (unified social credit code checked) and its applicant",
                                     "accounts", body=ENTERPRISE_BODY, ok="201", public=True,
                                     errors=("400", "422", "429"))},
        "/projects": {"get": _op("The caller's enterprise's projects (applicants)", "projects", PAGE),
                      "post": _op("Declare a project; the response carries its code", "projects", body=PROJECT_BODY,
                                  ok="201", errors=("400", "401", "403", "409", "422"))},
        "/projects/{code}": {"get": _op("A project with its stages, items, states and deadlines", "projects", CODE)},
        "/projects/{code}/stages/{key}/applications": {"post": _op(
            "Start a stage with its one application form", "projects", CODE, _param("key"), body=DATA_BODY,
            ok="201", errors=("400", "401", "403", "404", "409", "422"))},
        "/projects/{code}/stages/{key}/checklist": {"post": _op(
            "The items, materials (uploaded or missing, blocking or not) and signable commitments of a stage "
            "application with the answers given so far (the stage's decision runs, nothing is saved)",
            "projects", CODE, _param("key"), body=DATA_BODY, errors=("400", "401", "403", "404", "422"))},
        "/projects/{code}/progress": {"get": _op("Stage bar, items with lights, diagram marks and history",
                                                 "projects", CODE)},
        "/projects/{code}/materials": {
            "get": _op("The project's uploaded materials", "materials", CODE),
            "post": _op("Upload a material (PDF, OFD, JPG, PNG); one upload serves every item needing it",
                        "materials", CODE, ok="201", multipart=True, body={
                            "type": "object", "required": ["name", "file"],
                            "properties": {"name": {"type": "string"},
                                           "file": {"type": "string", "contentMediaType": "application/octet-stream"}}},
                        errors=("400", "401", "403", "404", "413", "422"))},
        "/projects/{code}/materials/{material_id}": {"get": _op("Download one material", "materials", CODE,
                                                                _param("material_id", "integer"),
                                                                answer="file")},
        "/projects/{code}/applications/{instance_id}/withdraw": {"post": _op(
            "Withdraw a running stage application (BLZT 2)", "projects", CODE, _param("instance_id", "integer"),
            errors=("403", "404", "409"))},
        "/projects/{code}/results": {"get": _op("Results issued for the finished applications", "projects", CODE)},
        "/public/projects/{code}": {"get": _op("Progress by code, public fields only", "public", CODE,
                                               public=True, errors=("404",))},
        "/tasks": {"get": _op("The caller's inbox, oldest deadline first", "tasks", PAGE,
                              _param("page_size", "integer", "query", minimum=1, maximum=500),
                              _param("stage", where="query"),
                              _param("item", where="query"), _param("project", where="query"),
                              _param("light", where="query", text="green, yellow, red or none",
                                     enum=["green", "yellow", "red", "none"]))},
        "/tasks/claim": {"post": _op("Claim several tasks; says why others were not claimed", "tasks",
                                     body={"type": "object", "required": ["ids"], "properties": {
                                         "ids": {"type": "array", "items": {"type": "integer"}}}})},
        "/tasks/{task_id}": {"get": _op("A task with its form's JSON Schema and the application", "tasks", TASK)},
        "/tasks/{task_id}/claim": {"post": _op("Hold a task (403 when it is not the caller's to do, 409 when "
                                               "someone else holds it)", "tasks", TASK,
                                               errors=("403", "404", "409"))},
        "/tasks/{task_id}/unclaim": {"post": _op("Give a task back", "tasks", TASK, errors=("403", "404", "409"))},
        "/tasks/{task_id}/complete": {"post": _op("Complete a task with its form data", "tasks", TASK,
                                                  body=DATA_BODY, errors=("400", "403", "404", "409", "422"))},
        "/tasks/{task_id}/correction": {"get": _op("For a correction task: who asked, opinion, missing materials",
                                                   "tasks", TASK)},
        "/catalog/items": {"get": _op("The item list", "catalogue", _param("stage", where="query"),
                                      _param("role", where="query"), _param("q", where="query"), public=True,
                                      errors=())},
        "/catalog/items/{code}": {"get": _op("One item's service guide", "catalogue", CODE, public=True,
                                             errors=("404",))},
        "/units": {"get": _op("Every unit with level, division and roles", "reference")},
        "/processes": {"get": _op("Deployed versions of the flows", "processes"),
                       "post": _op("Save a draft version (BPMN/DMN files, analysts); activate it apart", "processes",
                                   multipart=True,
                                   body={"type": "object", "properties": {"files": {"type": "array", "items": {
                                       "type": "string", "contentMediaType": "application/octet-stream"}},
                                       "comment": {"type": "string"}}}, ok="201")},
        "/processes/{old}/diff/{new}": {"get": _op("What changed between two deployed versions", "processes",
                                                   _param("old", "integer"), _param("new", "integer"))},
        "/processes/{version}/activation": {"get": _op(
            "What activating a version changes: diff from the active one, stages that start on it, running instances",
            "processes", _param("version", "integer"))},
        "/processes/{version}/forecast": {"post": _op(
            "Forecast a candidate version against the active one: n simulated projects per stage (real engine, "
            "seeded), median and p90 working days old vs new with bootstrap intervals; async: a job to poll",
            "processes", _param("version", "integer"), errors=("400", "401", "403", "404", "409", "422"),
            body={"type": "object", "properties": {
                "stages": {"type": "array", "items": {"type": "string"}}, "n": {"type": "integer"},
                "seed": {"type": "integer"}, "async": {"type": "boolean"}}}, body_required=False)},
        "/processes/{version}/forecast/{job}": {"get": _op(
            "A forecast job's progress (done of total simulated projects) and, when done, its result", "processes",
            _param("version", "integer"), _param("job"))},
        "/processes/{version}/activate": {"post": _op(
            "Make a version the one new instances start on, confirmed against the active version", "processes",
            _param("version", "integer"), errors=("400", "401", "403", "404", "409", "422"),
            body={"type": "object", "required": ["confirm"], "properties": {
                "confirm": {"const": True}, "replacing": {"type": "integer"}}})},
        "/processes/{version}/export": {"get": _op("The files of a deployed version, as a zip archive",
                                                   "processes", _param("version", "integer"), answer="zip")},
        "/processes/{version}/files/{name}": {"get": _op("One BPMN or DMN file of a version, as XML", "processes",
                                                         _param("version", "integer"), _param("name"),
                                                         answer="xml")},
        "/processes/{version}/migrations": {"post": _op("Move chosen running instances to a version", "processes",
                                                        _param("version", "integer"), body=_body(
                                                            ("instances",), instances={
                                                                "type": "array", "items": ID, "minItems": 1,
                                                                "maxItems": 200}))},
        "/instances/{instance_id}/migration-check": {"get": _op(
            "Whether an instance could move to ?version=N, and why not", "processes",
            _param("instance_id", "integer"), _param("version", "integer", "query", required=True))},
        "/migrations": {"get": _op("Recent migrations (?instance=ID for one instance's)", "processes",
                                   _param("instance", "integer", "query"))},
        "/migrations/{migration_id}/undo": {"post": _op("Undo a migration while the instance has not moved on",
                                                        "processes", _param("migration_id", "integer"))},
        "/projects/{code}/codes": {"get": _op("The project's level-2 codes, each with its level-3 codes", "projects",
                                              CODE)},
        "/projects/{code}/sub-projects": {"post": _op("Split a project into sub-projects (level-2 codes)", "projects",
                                                      CODE, body=_body(("names",), names=NAMES), ok="201",
                                                      errors=("400", "403", "404", "409", "422"))},
        "/projects/{code}/sections": {"post": _op("Units or sections of a sub-project (level-3 codes)", "projects",
                                                  CODE, body=_body(("names",), names=NAMES, kind={
                                                      "enum": ["unit", "section"]}), ok="201",
                                                  errors=("400", "403", "404", "409", "422"))},
        "/calendar/due": {"get": _op("The due instant of a limit (?start=&value=&unit=)", "time limits",
                                     _param("start", where="query", required=True,
                                            text="ISO 8601 date or instant"),
                                     _param("value", "integer", "query", text="required unless unit=immediate"),
                                     _param("unit", where="query", required=True,
                                            enum=["working_days", "calendar_days", "hours", "immediate"]))},
        "/calendar/years": {"get": _op("The years the working-day calendar covers and the override table",
                                       "time limits")},
        "/calendar/years/{year}": {
            "get": _op("One year of the working-day calendar", "time limits", _param("year", "integer")),
            "put": _op("Declare or correct a year in the override table (administrators)", "time limits",
                       _param("year", "integer"), body=_body(
                           ("declared",), declared={"type": "boolean"}, notice=_text(500), holidays=DATE_LIST,
                           workdays=DATE_LIST))},
        "/handlings/{handling_id}": {"get": _op("An item handling with its clock, light, BLZT history and special "
                                                "procedures", "time limits", _param("handling_id", "integer"))},
        "/handlings/{handling_id}/special-procedures": {"post": _op(
            "Start a special procedure {kind, reason, expected_days}: the clock stops", "time limits",
            _param("handling_id", "integer"), body=_body(
                ("kind", "reason", "expected_days"), kind={"enum": ["expert_review", "hearing", "testing", "inspection",
                                                                    "tender", "quarantine", "appraisal", "other"]},
                reason=_text(2000, minLength=1), expected_days={"type": "integer", "minimum": 1, "maximum": 365}),
            ok="201",
            errors=("400", "401", "403", "404", "409", "422"))},
        "/handlings/{handling_id}/special-procedures/{procedure_id}/end": {"post": _op(
            "End a special procedure {result?}: the due date moves by the paused working days", "time limits",
            _param("handling_id", "integer"), _param("procedure_id", "integer"),
            body=_body(result=_text(2000)), body_required=False, errors=("400", "403", "404", "409", "422"))},
        "/supervision": {"get": _op("A supervisor's notices and supervision tasks (督办)", "time limits",
                                    _param("all", where="query"))},
        "/supervision/notices/{notice_id}/acknowledge": {"post": _op("Mark a notice as read", "time limits",
                                                                     _param("notice_id", "integer"))},
        "/routing": {"get": _op("The routing table (?role=&division=)", "reference", _param("role", where="query"),
                                _param("division", where="query"))},
        "/routing/{role}/{division}": {"put": _op("Route a lane role in a division to {unit_code}; audited",
                                                  "reference", _param("role"), _param("division"),
                                                  body=_body(("unit_code",), unit_code=_text(40)))},
        "/routing/reroute": {"post": _op("Move open tasks to the units their routes now name", "reference",
                                         body=_body(role=_text(30), division=_text(12)))},
        "/stats": {"get": _op("Counts of projects, items handled, open tasks, overdue items", "reference")},
        # -- exchange: event-log exports (analysts, supervisors) and the SPGL exchange (administrators) --
        "/exports/events.xes": {"get": _op("The trail as XES (IEEE 1849), one trace per item handling, streamed",
                                           "exchange", *EXPORT_PARAMS)},
        "/exports/events.ocel.json": {"get": _op("The trail as OCEL 2.0 JSON (projects, stage instances, item "
                                                 "handlings, departments), streamed", "exchange", *EXPORT_PARAMS)},
        "/exchange": {"get": _op("SPGL rows per table and state, the queue and the failures", "exchange")},
        "/exchange/runs": {"post": _op("One exchange run now (audited)", "exchange")},
        "/exchange/rows/{row_id}/corrections": {"post": _op("Correct one field {field, value} of a row", "exchange",
                                                            _param("row_id", "integer"), body=OBJECT)},
        "/exchange/codes": {"get": _op("The SPGL code tables", "exchange")},
        "/exchange/codes/{table}/{code}": {"put": _op("Add or change a code {name, active?, default?}", "exchange",
                                                      _param("table"), _param("code"), body=OBJECT)},
        "/notifications": {"get": _op("My notifications, newest first, with the unread count", "notifications",
                                      _param("unread", where="query"), _param("lang", where="query"))},
        "/notifications/{notification_id}/read": {"post": _op("Mark one of my notifications read", "notifications",
                                                              _param("notification_id", "integer"))},
        # -- 项目策划生成 and 中介服务: the opinions, acceptance, delivery and rating are tasks (/tasks) --
        "/planning/proposals": {
            "get": _op("The planning proposals the caller leads, reviews or oversees", "platforms"),
            "post": _op("Propose a project for planning generation (lead department)", "platforms", ok="201",
                        body=_body(("name", "division", "site", "area_m2"), name=_text(200, minLength=2),
                                   division=_text(12), investment_type={"enum": ["government", "ratification",
                                                                                  "filing"]},
                                   flow_type={"type": "integer", "minimum": 1, "maximum": 10},
                                   enterprise_credit_code=_text(18), lead_role={"enum": ["drc", "planning"]},
                                   area_m2={"type": "number", "exclusiveMinimum": 0},
                                   site={"type": "object", "description": "GeoJSON Polygon, or a Point with area_m2"},
                                   description=_text(2000)))},
        "/planning/proposals/{proposal_id}": {"get": _op("A proposal: site, findings, reviews, result", "platforms",
                                                         _param("proposal_id", "integer"))},
        "/intermediaries": {"get": _op("The directory of intermediaries (中介超市)", "platforms",
                                       _param("service", where="query"), public=True, errors=("400", "422"))},
        "/projects/{code}/services": {
            "get": _op("The project's intermediary services (its applicant)", "platforms", CODE),
            "post": _op("Commission an intermediary service: direct choice or a recorded random draw", "platforms",
                        CODE, ok="201", body=_body(("service", "method"), service=_text(30),
                                                    method={"enum": ["direct", "random"]}, firm_id=ID,
                                                    committed_days={"type": "integer", "minimum": 1,
                                                                    "maximum": 120}),
                        errors=("400", "401", "403", "404", "409", "422"))},
        "/services/{service_id}": {"get": _op("One intermediary service and its contract", "platforms",
                                              _param("service_id", "integer"))},
        "/services/{service_id}/report": {"post": _op(
            "Upload the firm's report (PDF, OFD or image); it becomes a project material", "platforms",
            _param("service_id", "integer"), ok="201", multipart=True,
            body={"type": "object", "required": ["file"], "properties": {
                "file": {"type": "string", "contentMediaType": "application/octet-stream"}}},
            errors=("400", "401", "403", "404", "409", "413", "422"))},
        "/intermediary/commissions": {"get": _op("The caller's firm's commissions (intermediaries)", "platforms")},
        "/services/oversight": {"get": _op("Late and refused intermediary services (supervisors)", "platforms")},
        "/openapi.json": {"get": _op("This document", "reference", public=True, errors=())},
        **_seal_paths(),
    }


def _seal_paths() -> dict[str, dict]:
    """The signed result documents (一枚印章出件) and their public verification."""
    cert = _param("cert_id", text="the certificate id printed under the QR code")
    reason = _body(("reason",), reason=_text(1000, minLength=1))
    return {
        "/public/certificates/{cert_id}": {"get": _op(
            "A document's facts and status (有效 / 已撤销 / 已变更) by id and check code", "public", cert,
            _param("s", where="query", required=True, text="the check code from the QR code"),
            public=True, errors=("404",))},
        "/public/certificates/verify": {"post": _op(
            "Check an uploaded PDF: SHA-256 against the issued file, and its PAdES signature", "public",
            public=True, multipart=True, errors=("400", "404", "422"), body={
                "type": "object", "required": ["file"], "properties": {
                    "file": {"type": "string", "contentMediaType": "application/pdf"},
                    "id": _text(40), "s": _text(64)}})},
        "/projects/{code}/documents": {"get": _op("The project's signed documents with their status", "projects",
                                                  CODE)},
        "/projects/{code}/documents/{cert_id}/pdf": {"get": _op(
            "Download a signed document (409 while it is being issued)", "projects", CODE, cert,
            answer="file", errors=("400", "403", "404", "409"))},
        "/certificates/{cert_id}/revoke": {"post": _op(
            "Revoke (撤销) a document; the issuing unit's window (BLZT 15, audited)", "projects", cert, body=reason,
            errors=("400", "403", "404", "409", "422"))},
        "/certificates/{cert_id}/reissue": {"post": _op(
            "Re-issue a document; the old one shows 已变更 with the new one", "projects", cert, body=reason,
            ok="201", errors=("400", "403", "404", "409", "422"))},
    }


def document() -> dict:
    """The whole OpenAPI 3.1 document."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "海南省工程建设项目审批管理系统 API", "version": "1",
                 "description": "JSON API of the approval platform. Errors are {error: {code, message, fields?}}."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": _paths(),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "POST /auth/token for a token"}},
            "schemas": {"Error": {"type": "object", "required": ["error"], "properties": {"error": {
                "type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                               "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                               "missing_materials": {"type": "array", "items": {"type": "string"},
                                                     "description": "a refused stage application: the "
                                                                    "required materials not uploaded"}}}}}},
            "responses": {"Error": {"description": "An error with its code and message", "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}},
        },
    }


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI document of this API."""
    return jsonify(document())
