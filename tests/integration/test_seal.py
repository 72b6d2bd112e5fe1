"""一枚印章出件: the result built from the decisions, signed, verifiable, revocable (issue 10)."""

from __future__ import annotations

import asyncio
import io
import json
from concurrent.futures import ThreadPoolExecutor

import pikepdf
import pypdf
import pypdfium2
import pytest
import zxingcpp
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import select

from app.db import transaction
from app.models import AuditEvent, HumanTask, IssuedDocument, ItemHandling, ProcessInstance, User
from app.scheduler import SealWorker
from app.services.people import projects
from app.services.provisioning import demo
from app.services.seal import certs, documents, verify
from app.services.trail import audit
from app.services.workflow import instances
from app.stages import BY_KEY


def _project(platform, name="椰林湾综合楼项目") -> tuple[str, int]:
    with transaction(platform.sessions) as session:
        applicant = session.scalar(select(User).where(User.username == "applicant1"))
        project = projects.create_project(session, platform, applicant, {
            "name": name, "division": "460100", "investment_type": "ratification", "flow_type": 3})
        stage = BY_KEY["initiation"]
        data = demo.stage_application(stage, project, platform.now().date())
        demo.supply_materials(session, platform, applicant, project, stage, data)  # a filing lacking one is refused
        instance = projects.apply_for_stage(session, platform, applicant, project.code, stage.key, data)
        return project.code, instance.id


def _advance(platform, instance_id: int, stop_at: str | None = None, decide=lambda row: None) -> HumanTask | None:
    """Complete open tasks as their lane's officers until ``stop_at`` is open (returned) or the stage ends."""
    for _ in range(100):
        with transaction(platform.sessions, write=False) as session:
            rows = demo.open_tasks(session, instance_id)
        if not rows:
            return None
        for row in rows:
            if row.spec_name == stop_at:
                return row
        row = rows[0]
        with transaction(platform.sessions) as session:
            actor = demo.actor_for(session, row)
            instances.complete_task(session, platform, row.id,
                                    demo.task_answer(row.form, row.id, platform.now().date(), decide(row)), actor)
    raise AssertionError("the stage did not reach its end")


def _issued(platform, instance_id: int) -> list[IssuedDocument]:
    with transaction(platform.sessions, write=False) as session:
        return list(session.scalars(select(IssuedDocument).where(IssuedDocument.instance_id == instance_id)
                                    .order_by(IssuedDocument.id)))


def _numbers(platform, instance_id: int) -> list[str]:
    """The department document numbers the decisions recorded."""
    with transaction(platform.sessions, write=False) as session:
        details = session.scalars(select(AuditEvent.detail).where(AuditEvent.instance_id == instance_id,
                                                                   AuditEvent.kind == "item_decided"))
        return [json.loads(d)["number"] for d in details]


@pytest.fixture
def issued_stage(platform):
    """Stage 1 run to its end, its documents signed: (project code, instance id, result document)."""
    code, instance_id = _project(platform)
    assert _advance(platform, instance_id) is None
    pending = _issued(platform, instance_id)
    assert pending and {d.status for d in pending} == {"pending"}
    done = SealWorker(platform).tick()
    assert len(done["issued"]) == len(pending) and done["failed"] == []
    result = next(d for d in _issued(platform, instance_id) if d.kind == "result")
    return code, instance_id, result


def _pdf(platform, doc) -> bytes:
    return documents.pdf_of(platform, doc)


def validate_pdf_signature(sig, context):
    """pyHanko's own validation, in a thread of its own (a browser test may leave an event loop running here)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(async_validate_pdf_signature(sig, context))).result()


def test_the_result_is_signed_intact_and_trusted_and_a_flipped_byte_breaks_it(platform, issued_stage):
    code, instance_id, doc = issued_stage
    data = _pdf(platform, doc)
    root = load_cert_from_pemder(str(certs.Paths.of(platform.settings).root_cert))
    sig = PdfFileReader(io.BytesIO(data)).embedded_signatures[0]
    status = validate_pdf_signature(sig, ValidationContext(trust_roots=[root]))
    assert status.intact and status.valid and status.trusted and status.bottom_line
    assert status.summary() == "INTACT:TRUSTED,UNTOUCHED"
    assert "审批专用章" in status.signing_cert.subject.human_friendly
    start = data.index(b"stream", len(data) // 4) + 10  # a byte inside the signed content
    flipped = bytearray(data)
    flipped[start] ^= 0x01
    broken = validate_pdf_signature(PdfFileReader(io.BytesIO(bytes(flipped)), strict=False).embedded_signatures[0],
                                    ValidationContext(trust_roots=[root]))
    assert not broken.intact and not broken.bottom_line


def test_the_text_states_the_project_and_every_document_number(platform, issued_stage):
    code, instance_id, doc = issued_stage
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(_pdf(platform, doc))).pages)
    numbers = _numbers(platform, instance_id)
    assert numbers and all(numbers)
    assert "椰林湾综合楼项目" in text and code in text and doc.number in text
    assert "海南椰林建设发展有限公司" in text or "椰林建设" in text  # the applicant
    squeezed = text.replace("\n", "")
    for number in numbers:
        assert number in squeezed, number


def test_the_qr_code_on_the_page_holds_the_stored_verification_url(platform, issued_stage):
    _code, _instance, doc = issued_stage
    page = pypdfium2.PdfDocument(_pdf(platform, doc))[0]
    image = page.render(scale=2).to_pil()
    found = [r.text for r in zxingcpp.read_barcodes(image)]
    assert found == [verify.url_of(platform.settings, doc)]
    assert found[0].startswith(platform.settings.BASE_URL + f"/v/{doc.cert_id}?s=")


def test_the_pdf_is_marked_pdfa_2b_with_the_cjk_font_embedded(platform, issued_stage):
    _code, _instance, doc = issued_stage
    with pikepdf.open(io.BytesIO(_pdf(platform, doc))) as pdf:
        meta = pdf.open_metadata()
        assert meta.pdfa_status == "2B"
        intents = pdf.Root.OutputIntents
        assert len(intents) == 1 and intents[0].S == "/GTS_PDFA1"
        fonts = [f for page in pdf.pages for f in page.Resources.Font.values()]
        assert fonts and all("/FontFile2" in f.DescendantFonts[0].FontDescriptor for f in fonts)


def test_every_approved_item_gets_its_own_signed_document(platform, issued_stage):
    _code, instance_id, result = issued_stage
    docs = _issued(platform, instance_id)
    items = [d for d in docs if d.kind == "item"]
    facts = documents.facts_of(result)
    assert {d.item_code for d in items} == {i["item_code"] for i in facts["items"]}
    assert all(i["number"] and i["date"] and i["outcome"] == "approve" for i in facts["items"])
    assert all(d.status == "issued" and d.sha256 for d in docs)


def test_the_window_sees_the_decided_items_and_cannot_add_one(platform, login):
    code, instance_id = _project(platform)
    row = _advance(platform, instance_id, stop_at="window_issue")
    with transaction(platform.sessions, write=False) as session:
        preview = documents.preview(session, platform, session.get(HumanTask, row.id))
        plan_codes = [i.item_code for i in preview["items"]]
    assert plan_codes and all(i.outcome == "approve" and i.number and i.date for i in preview["items"])
    assert preview["applicant"] and preview["credit_code"]
    window = login("window1")
    page_answer = window.get(f"/tasks/{row.id}")
    assert page_answer.status_code == 200
    bad = demo.task_answer(row.form, row.id, platform.now().date()) | {"certificates": [{"item_code": "S9-FAKE"}]}
    refused = window.post(f"/tasks/{row.id}/complete", {"data": bad})
    assert refused.status_code == 422
    assert "certificates.0.item_code" in refused.get_json()["error"]["fields"]
    with transaction(platform.sessions, write=False) as session:
        assert session.get(HumanTask, row.id).status == "open"  # nothing half-written
    assert _issued(platform, instance_id) == []
    good = demo.task_answer(row.form, row.id, platform.now().date()) | {"certificates": [{"item_code": plan_codes[0]}]}
    assert window.post(f"/tasks/{row.id}/complete", {"data": good}).status_code == 200
    docs = _issued(platform, instance_id)
    assert [d.kind for d in docs] == ["result", "item"] and docs[1].item_code == plan_codes[0]


def test_the_officer_task_page_shows_the_result_to_confirm(platform, client):
    from tests.integration.webclient import Pages
    code, instance_id = _project(platform)
    row = _advance(platform, instance_id, stop_at="window_issue")
    pages = Pages(client, "window1")
    html = pages.get(f"/officer/tasks/{row.id}").get_data(as_text=True)
    assert 'id="result-preview"' in html
    for number in _numbers(platform, instance_id):
        assert number in html


def test_the_applicant_waits_then_downloads_the_signed_pdf(platform, client):
    from tests.integration.webclient import Pages
    code, instance_id = _project(platform)
    _advance(platform, instance_id)
    pages = Pages(client, "applicant1")
    waiting = pages.get(f"/portal/projects/{code}/results/{instance_id}").get_data(as_text=True)
    assert "正在签章出件" in waiting and 'data-download="pdf"' not in waiting
    SealWorker(platform).tick()
    ready = pages.get(f"/portal/projects/{code}/results/{instance_id}").get_data(as_text=True)
    assert 'data-download="pdf"' in ready
    doc = next(d for d in _issued(platform, instance_id) if d.kind == "result")
    answer = pages.get(f"/portal/projects/{code}/documents/{doc.cert_id}.pdf")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    assert answer.data == _pdf(platform, doc)


def test_the_public_page_says_valid_and_a_wrong_code_or_id_says_nothing_more(platform, client, issued_stage):
    _code, _instance, doc = issued_stage
    url = verify.url_of(platform.settings, doc).removeprefix(platform.settings.BASE_URL)
    page = client.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-status="issued"' in html and "有效" in html
    assert doc.number in html and "椰林湾综合楼项目" in html
    wrong_mac = client.get(f"/v/{doc.cert_id}?s=AAAAAAAAAAAAAAAAAAAAAA")
    wrong_id = client.get("/v/HN2026ZZZZZZZZZZZZ?s=" + url.split("s=")[1])
    assert wrong_mac.status_code == wrong_id.status_code == 404
    for answer in (wrong_mac, wrong_id):
        text = answer.get_data(as_text=True)
        assert 'data-verify="not-found"' in text and doc.number not in text and "椰林湾" not in text
    api = client.get(f"/api/v1/public/certificates/{doc.cert_id}?s={url.split('s=')[1]}")
    assert api.status_code == 200 and api.get_json()["status"] == "issued"
    assert client.get(f"/api/v1/public/certificates/{doc.cert_id}?s=x").get_json()["error"]["code"] == "not_found"


def test_an_uploaded_pdf_is_checked_by_hash_and_by_signature(platform, client, issued_stage):
    _code, _instance, doc = issued_stage
    data = _pdf(platform, doc)

    def check(content: bytes) -> dict:
        answer = client.post("/api/v1/public/certificates/verify", data={"file": (io.BytesIO(content), "r.pdf")},
                             content_type="multipart/form-data")
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return answer.get_json()

    same = check(data)
    assert same["hash_match"] and same["signature"]["valid"] and same["document"] == doc.cert_id
    tampered = bytearray(data)
    tampered[data.index(b"stream", len(data) // 4) + 10] ^= 0x01
    changed = check(bytes(tampered))
    assert not changed["hash_match"] and not changed["signature"]["valid"]
    unsigned = check(b"%PDF-1.7\n%nothing\n")
    assert not unsigned["hash_match"] and not unsigned["signature"]["signed"]
    url = verify.url_of(platform.settings, doc).removeprefix(platform.settings.BASE_URL)
    from tests.integration.webclient import Pages
    page = Pages(client).post(f"/v/{doc.cert_id}", {"s": url.split("s=")[1], "file": (io.BytesIO(data), "r.pdf")},
                              content_type="multipart/form-data").get_data(as_text=True)
    assert 'data-hash-match="yes"' in page and 'data-signature="valid"' in page


def test_revoking_flips_the_public_page_and_records_blzt_15(platform, client, login, issued_stage):
    _code, instance_id, doc = issued_stage
    url = verify.url_of(platform.settings, doc).removeprefix(platform.settings.BASE_URL)
    applicant = login("applicant1")
    assert applicant.post(f"/certificates/{doc.cert_id}/revoke", {"reason": "x"}).status_code == 403
    window = login("window1")
    assert window.post(f"/certificates/{doc.cert_id}/revoke", {"reason": ""}).status_code == 422
    answer = window.post(f"/certificates/{doc.cert_id}/revoke", {"reason": "申请人以欺骗手段取得许可"})
    assert answer.status_code == 200 and answer.get_json()["status"] == "revoked"
    html = client.get(url).get_data(as_text=True)
    assert 'data-status="revoked"' in html and "已撤销" in html and "欺骗手段" in html
    with transaction(platform.sessions, write=False) as session:
        states = set(session.scalars(select(ItemHandling.state).where(ItemHandling.instance_id == instance_id)))
        kinds = set(session.scalars(select(AuditEvent.kind).where(AuditEvent.instance_id.is_(None)
                                                                  | (AuditEvent.instance_id == instance_id))))
        assert audit.verify_chain(session).ok
    assert states == {15} and "document_revoked" in kinds
    assert window.post(f"/certificates/{doc.cert_id}/revoke", {"reason": "again"}).status_code == 409


def test_a_reissued_document_shows_changed_with_the_new_one(platform, client, login, issued_stage):
    _code, instance_id, doc = issued_stage
    window = login("window1")
    answer = window.post(f"/certificates/{doc.cert_id}/reissue", {"reason": "申请单位名称变更"})
    assert answer.status_code == 201
    new_id = answer.get_json()["id"]
    old = client.get(verify.url_of(platform.settings, doc).removeprefix(platform.settings.BASE_URL))
    html = old.get_data(as_text=True)
    assert 'data-status="superseded"' in html and f'data-replaced-by="{new_id}"' in html
    SealWorker(platform).tick()
    with transaction(platform.sessions, write=False) as session:
        new = documents.document(session, new_id)
        assert new.status == "issued" and documents.facts_of(new)["replaces"] == doc.cert_id
        assert session.scalar(select(AuditEvent).where(AuditEvent.kind == "document_reissued")) is not None


def test_a_refusal_produces_the_signed_refusal_decision(platform):
    code, instance_id = _project(platform, "不予许可测试项目")
    first_review = []

    def decide(row):
        if row.form == "review.schema.json" and not first_review:
            first_review.append(row.item_code)
            return "refuse"
        return None

    assert _advance(platform, instance_id, decide=decide) is None
    with transaction(platform.sessions, write=False) as session:
        assert session.get(ProcessInstance, instance_id).status == "refused"
    docs = _issued(platform, instance_id)
    assert [d.kind for d in docs] == ["refusal"]
    SealWorker(platform).tick()
    doc = _issued(platform, instance_id)[0]
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(_pdf(platform, doc))).pages)
    assert "不予许可决定书" in text and doc.number in text and "不予许可测试项目" in text
    refused = [i for i in documents.facts_of(doc)["items"] if i["outcome"] == "refuse"]
    assert [i["item_code"] for i in refused] == first_review


def test_a_missing_seal_is_named_and_the_document_stays_pending(platform, tmp_path):
    code, instance_id = _project(platform)
    _advance(platform, instance_id)
    saved = platform.settings.SEAL_KEY_DIR
    platform.settings.SEAL_KEY_DIR = str(tmp_path / "nowhere")
    try:
        done = SealWorker(platform).tick()
    finally:
        platform.settings.SEAL_KEY_DIR = saved
    assert done["issued"] == [] and done["failed"]
    docs = _issued(platform, instance_id)
    assert {d.status for d in docs} == {"pending"} and "flask seal init" in docs[0].last_error
    assert len(SealWorker(platform).tick()["issued"]) == len(docs)  # retried once the seal is there
