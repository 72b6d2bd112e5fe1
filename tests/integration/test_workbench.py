"""The officers' desk and the pages of issue 11 (round two): decided items before accepting, the 补正
recheck, 已办, sorting, saved filters, project context, material preview, the progress page's
department lanes and timeline, the public guide in words.  SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re

import pytest
from lxml import etree
from sqlalchemy import func, select

from app.db import transaction
from app.models import Material, Project, SavedFilter, User

from .test_pages import PDF, apply_stage1, declare, open_task, uploads  # noqa: F401  (fixture)
from .webclient import Pages

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def accepted_project(platform, client, app):
    """A stage-1 application the window has accepted; ``(code, applicant, window)`` page clients."""
    applicant = Pages(client, "applicant1")
    code = declare(applicant)
    assert apply_stage1(applicant, code).status_code == 302
    window = Pages(app.test_client(), "window1")
    accept = open_task(platform, code, "window")
    page = window.text(f"/officer/tasks/{accept.id}")
    assert window.post(f"/officer/tasks/{accept.id}", {"outcome": "accept"}).status_code == 302
    return code, applicant, window, accept, page


def test_the_window_sees_the_decided_items_and_their_departments_before_accepting(platform, client, app):
    code, _, window, accept, page = accepted_project(platform, client, app)
    decided = page.split('id="decided-items"')[1].split("</table>")[0]
    assert "自然资源和规划" in decided and "海口市行政审批服务局" in decided
    assert re.findall(r'data-item="([^"]+)"', decided)  # one row per decided item
    assert "planning" not in re.sub(r'data-item="[^"]*"', "", decided)  # departments in words, not role codes
    review = open_task(platform, code, "planning")
    reviewer = Pages(app.test_client(), "planning_haikou").text(f"/officer/tasks/{review.id}")
    assert 'id="decided-items"' not in reviewer  # the departments see their own item


def test_the_correction_recheck_shows_request_note_and_flags_a_claimed_but_missing_upload(platform, client, app):
    code, applicant, window, _, _ = accepted_project(platform, client, app)
    planning = Pages(app.test_client(), "planning_haikou")
    review = open_task(platform, code, "planning")
    answer = {"outcome": "correct", "opinion": "请补充宗地图和红线图", "missing_materials": "宗地图\n红线图"}
    assert planning.post(f"/officer/tasks/{review.id}", answer).status_code == 302
    correction = open_task(platform, code, "applicant")
    uploaded = applicant.post(f"/portal/projects/{code}/materials",
                              {"name": "宗地图", "file": (io.BytesIO(PDF), "宗地图.pdf")},
                              content_type="multipart/form-data")
    assert uploaded.status_code == 302
    supplement = {"materials": "宗地图\n红线图", "note": "宗地图已上传，红线图随后补交"}
    assert applicant.post(f"/portal/tasks/{correction.id}", supplement).status_code == 302
    recheck = open_task(platform, code, "window")
    page = window.text(f"/officer/tasks/{recheck.id}")
    section = page.split('id="recheck"')[1].split("</table>")[0]
    assert "请补充宗地图和红线图" in section and "宗地图已上传，红线图随后补交" in section
    assert 'data-material="宗地图" data-state="supplied"' in section
    assert 'data-material="红线图" data-state="claimed_missing"' in section
    assert "称已提交，但未见新上传" in section and "红线图" in page.split('role="alert"')[1].split("</p>")[0]
    english = Pages(app.test_client(), "window1")
    english.get("/lang/en")
    assert "Claimed as supplied, but no new upload" in english.text(f"/officer/tasks/{recheck.id}")


def test_done_list_sorting_and_saved_filters(platform, client, app):
    first, _, window, accept, _ = accepted_project(platform, client, app)
    done = window.text("/officer/done")
    row = done.split(f'data-task="{accept.id}"')[1].split("</tr>")[0]
    assert "受理" in row and first in row and "年" in row  # outcome, project and time
    applicant = Pages(client, "applicant1")
    codes = []
    for n in range(2):
        code = declare(applicant, f"排序测试项目{n}")
        assert apply_stage1(applicant, code).status_code == 302
        codes.append(code)
    oldest = window.text("/officer/?sort=submitted")
    newest = window.text("/officer/?sort=submitted_desc")
    assert oldest.index(codes[0]) < oldest.index(codes[1]) and newest.index(codes[1]) < newest.index(codes[0])
    assert window.get("/officer/?sort=nonsense").status_code == 200  # ignored, not a 500
    saved = window.post("/officer/filters", {"name": "最新提交", "sort": "submitted_desc", "stage": "initiation"})
    assert saved.status_code == 302
    inbox = window.text("/officer/")
    link = re.search(r'<a href="(/officer/\?[^"]+)"[^>]*>最新提交</a>', inbox).group(1)
    assert "sort=submitted_desc" in link and "stage=initiation" in link
    assert window.post("/officer/filters", {"name": "", "sort": "submitted"}).status_code == 302  # refused, said
    assert window.post("/officer/filters", {"name": "坏的", "sort": "sideways"}).status_code == 302
    with transaction(platform.sessions, write=False) as session:
        rows = session.scalars(select(SavedFilter).join(User).where(User.username == "window1")).all()
        assert [r.name for r in rows] == ["最新提交"]
        filter_id = rows[0].id
    other = Pages(app.test_client(), "window_haikou")
    assert other.post(f"/officer/filters/{filter_id}/delete").status_code == 404  # not theirs
    assert window.post(f"/officer/filters/{filter_id}/delete").status_code == 302
    assert "最新提交" not in window.text("/officer/")


def test_the_task_page_shows_the_project_context_and_previews_materials(platform, client, app):
    code, applicant, _, _, _ = accepted_project(platform, client, app)
    for name, content, filename in (("授权委托书及受托人身份证件", PDF, "委托书.pdf"), ("宗地图", PNG, "宗地图.png")):
        response = applicant.post(f"/portal/projects/{code}/materials", {"name": name, "file": (io.BytesIO(content),
                                  filename)}, content_type="multipart/form-data")
        assert response.status_code == 302
    review = open_task(platform, code, "planning")
    planning = Pages(app.test_client(), "planning_haikou")
    page = planning.text(f"/officer/tasks/{review.id}")
    context = page.split('id="project-context"')[1]
    assert 'data-stage="initiation"' in context and "自然资源和规划" in context  # stages, items by department
    assert 'id="timeline"' in page and "综合受理" in page.split('id="timeline"')[1]  # the stage so far
    previews = re.findall(r'src="(/officer/tasks/\d+/materials/\d+/preview)"', page)
    with transaction(platform.sessions, write=False) as session:  # the two above and those filed with stage 1
        uploaded = session.scalar(select(func.count(Material.id)).join(Project, Project.id == Material.project_id)
                                  .where(Project.code == code))
    assert len(previews) == uploaded > 2 and "<iframe" in page and "<img" in page
    for url in previews:
        shown = planning.get(url)
        assert shown.status_code == 200 and shown.mimetype in ("application/pdf", "image/png")
        assert "attachment" not in shown.headers.get("Content-Disposition", "")
        assert shown.headers["X-Frame-Options"] == "SAMEORIGIN"
        shown.close()
    assert Pages(app.test_client(), "planning_sanya").get(previews[0]).status_code == 404


def test_the_progress_diagram_names_lanes_by_department(platform, client, app):
    code, applicant, _, _, _ = accepted_project(platform, client, app)
    page = applicant.text(f"/portal/projects/{code}/progress")
    url = re.search(r'data-url="([^"]+)"', page).group(1)
    lanes = [lane.get("name") for lane in etree.fromstring(applicant.get(url).data).iter(
        "{http://www.omg.org/spec/BPMN/20100524/MODEL}lane")]
    assert "自然资源和规划" in lanes and "综合受理窗口" in lanes
    assert not {"planning", "window", "drc", "environment"} & set(lanes)
    assert 'data-zoom="fit"' in page and 'data-zoom="in"' in page
    timeline = page.split('id="timeline"')[1].split("</section>")[0]
    assert "提交申请" in timeline and "综合受理" in timeline and "受理" in timeline
    applicant.get("/lang/en")
    english = [lane.get("name") for lane in etree.fromstring(applicant.get(url).data).iter(
        "{http://www.omg.org/spec/BPMN/20100524/MODEL}lane")]
    assert "planning" not in english and all(re.fullmatch(r"[ -~]+", n or "") for n in english), english


def test_history_and_names_never_show_role_codes(platform, client, app):
    code, applicant, _, _, _ = accepted_project(platform, client, app)
    review = open_task(platform, code, "planning")
    planning = Pages(app.test_client(), "planning_haikou")
    assert planning.post(f"/officer/tasks/{review.id}", {"outcome": "approve", "result_number": "琼批2026-1",
                                                      "decision_date": "2026-12-01"}).status_code == 302
    page = applicant.text(f"/portal/projects/{code}/progress")
    history = page.split("办理记录")[1]
    with transaction(platform.sessions, write=False) as session:
        roles = [u.lane_roles for u in session.scalars(select(User).where(User.lane_roles.is_not(None)))]
    assert not [r for r in set(roles) if r and re.search(rf"[\u4e00-\u9fff] {r}\b", history)]
    assert "行政审批服务局 自然资源和规划" in history


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_public_guide_speaks_in_words_with_no_empty_rows(client, platform, lang):
    pages = Pages(client)
    pages.get(f"/lang/{lang}")
    item = next(i for i in platform.catalog.items if "handling_forms" in i.details and
                {"window", "online"} <= set(i.details["handling_forms"]))
    page = pages.text(f"/public/items/{item.code}")
    elements = page.split('id="elements"')[1].split("</dl>")[0]
    assert not re.search(r"<dd>\s*</dd>", elements)
    assert ("窗口办理" in elements and "网上办理" in elements) if lang == "zh" else \
        ("At the service window" in elements and "Online" in elements)
    assert not re.search(r"(>|、)(window|online)(<|、)", elements)  # the codes themselves
    if lang == "en":
        assert "办理形式" not in elements and "Channels" in elements
    assert "{'name'" not in elements and "'counted'" not in elements  # special procedures in words


def test_the_public_query_names_the_division_beside_its_code(client, platform):
    applicant = Pages(client, "applicant1")
    code = declare(applicant)
    page = Pages(client).text(f"/public/query?code={code}")
    assert re.search(r"460100</span>\s*海口市", page)


def test_the_desk_pages_render_in_english(platform, client, app):
    code, _, window, accept, _ = accepted_project(platform, client, app)
    window.get("/lang/en")
    inbox = window.text("/officer/?sort=submitted")
    assert "Latest submitted first" in inbox and "Saved filters" in inbox and "常用筛选" not in inbox
    done = window.text("/officer/done")
    assert "Outcome" in done and "办理结果" not in done
    task = window.text(f"/officer/tasks/{accept.id}")
    assert "Items this stage needs" in task and "How it went" in task and "办理经过" not in task
    analyst = Pages(app.test_client(), "analyst1")
    analyst.get("/lang/en")
    page = analyst.text("/admin/versions/1/activate")
    assert "already active" in page or "Confirm activation" in page


def test_the_officers_review_form_and_its_messages_are_in_english(platform, client, app):
    code, _, window, _, page = accepted_project(platform, client, app)
    assert "受理结论" in page  # the window's form, in Chinese by default
    review = open_task(platform, code, "planning")
    reviewer = Pages(app.test_client(), "planning_haikou")
    reviewer.get("/lang/en")
    form = reviewer.text(f"/officer/tasks/{review.id}").split('id="task-form"')[1].split("</form>")[0]
    for english in ("Review result", "Approve (grant)", "Refuse (no permit)", "Correction needed", "Review opinion",
                    "Approval document number", "Document date", "Required on approval"):
        assert english in form, english
    assert not re.search(r"[\u4e00-\u9fff]", form), re.findall(r"[\u4e00-\u9fff]+", form)  # no Chinese left
    answer = {"outcome": "correct", "opinion": "Please supply the site plan",
              "missing_materials": "宗地图\n" + "长" * 201}  # the second line is too long
    refused = reviewer.post(f"/officer/tasks/{review.id}", answer)
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "Item 2: Too long" in text and "第2项" not in text, re.findall(r'error[^>]*>[^<]+', text)
