"""The admin pages: guarded once, versions, modeler page, save from the modeler, migrations, forms."""

import json

from tests.fixtures.bpmn_variants import CONSTRUCTION, NEW_REVIEW, add_parallel_review, edit, shipped
from tests.integration.test_deployments import analyst  # noqa: F401  (puts the active version back)
from tests.integration.test_migration import start_construction
from tests.integration.webclient import Pages


def deploy_from_modeler(pages, xml: bytes, name=CONSTRUCTION, comment="页面保存"):
    return pages.client.post("/admin/deploy", json={"file": name, "xml": xml.decode(), "comment": comment},
                             headers={"X-CSRFToken": pages.token()})


def test_only_analysts_and_administrators_enter(client):
    assert client.get("/admin/").status_code == 302  # to the login page
    assert Pages(client, "window1").get("/admin/").status_code == 403
    assert Pages(client, "admin").get("/admin/").status_code == 200


def test_index_lists_versions_files_and_forms(client):
    html = Pages(client, "analyst1").text("/admin/")
    assert "stages/construction.bpmn" in html and "stage_construction" in html
    assert "/admin/modeler/1/stages/construction.bpmn" in html
    assert "review.schema.json" in html and "v1" in html


def test_modeler_page_and_file(client):
    pages = Pages(client, "analyst1")
    html = pages.text(f"/admin/modeler/1/{CONSTRUCTION}")
    assert "bpmn-modeler.production.min.js" in html and "spiffworkflow-moddle.json" in html
    options = json.loads(html.split('id="editor-options">')[1].split("</script>")[0])
    assert {"window", "fire", "meteorology"} <= {r["code"] for r in options["roles"]}
    assert NEW_REVIEW["item_code"] in {i["code"] for i in options["items"]}
    assert "review.schema.json" in options["forms"] and "correction" in options["processes"]
    assert pages.get(f"/admin/versions/1/files/{CONSTRUCTION}").data == shipped()
    assert pages.get("/admin/modeler/1/stages/nope.bpmn").status_code == 404


def test_saving_from_the_modeler_deploys_or_lists_problems(client, analyst):  # noqa: F811
    pages = Pages(client, "analyst1")
    saved = deploy_from_modeler(pages, add_parallel_review(shipped()))
    assert saved.status_code == 201, saved.get_json()
    version = saved.get_json()["version"]
    assert deploy_from_modeler(pages, add_parallel_review(shipped())).get_json()["unchanged"] is True
    broken = edit(shipped(), "//bpmn:userTask[@id='window_accept']//spiffworkflow:property"
                  "[@name='formJsonSchemaFilename']", value="nope.schema.json")
    refused = deploy_from_modeler(pages, broken)
    assert refused.status_code == 422
    assert [p["element"] for p in refused.get_json()["error"]["problems"]] == ["window_accept"]
    hostile = deploy_from_modeler(pages, shipped(), name="../../etc/passwd.bpmn")
    assert hostile.status_code == 422 and "file name" in hostile.get_json()["error"]["message"]
    no_token = client.post("/admin/deploy", json={"file": CONSTRUCTION, "xml": "<x/>"})
    assert no_token.status_code == 400  # CSRF
    html = pages.text(f"/admin/versions/1/diff/{version}")
    assert NEW_REVIEW["task_id"] in html and "Lane_meteorology" in html


def test_saving_makes_a_draft_that_goes_live_only_when_confirmed(client, analyst):  # noqa: F811
    pages = Pages(client, "analyst1")
    saved = deploy_from_modeler(pages, add_parallel_review(shipped(), task_id="review_page_draft")).get_json()
    version = saved["version"]
    assert saved["active"] is False and saved["activate_url"] == f"/admin/versions/{version}/activate"
    index = pages.text("/admin/")
    assert "待启用的草稿" in index and f"/admin/versions/{version}/activate" in index
    active = int(index.split("当前启用版本 v")[1].split("<")[0])
    assert active != version
    confirm = pages.text(f"/admin/versions/{version}/activate")
    assert "review_page_draft" in confirm and "施工许可" in confirm  # the diff, and the stage that starts on it
    assert f'name="replacing" value="{active}"' in confirm and "确认启用" in confirm
    unconfirmed = pages.post(f"/admin/versions/{version}/activate", {"replacing": str(active)})
    assert unconfirmed.status_code == 302 and unconfirmed.location.endswith(f"/admin/versions/{version}/activate")
    assert "请先核对差异并勾选确认" in pages.text(unconfirmed.location)
    assert f"当前启用版本 v{active}<" in pages.text("/admin/")
    done = pages.post(f"/admin/versions/{version}/activate", {"replacing": str(active), "confirm": "yes"})
    assert done.status_code == 302
    assert f"版本 {version} 已启用" in pages.text("/admin/")
    back = pages.text("/admin/versions/1/activate")  # re-activating an older version asks too
    assert "比当前启用版本旧" in back and f'value="{version}"' in back
    assert pages.post("/admin/versions/1/activate", {"replacing": str(version), "confirm": "yes"}).status_code == 302
    assert "版本 1 已启用" in pages.text("/admin/")
    export = pages.get(f"/admin/versions/{version}/export")
    assert export.status_code == 200 and export.mimetype == "application/zip"


def test_a_structurally_broken_flow_is_refused_from_the_modeler_in_the_readers_language(client, analyst):  # noqa: F811
    from lxml import etree

    from tests.fixtures.bpmn_variants import NS
    root = etree.fromstring(shipped("stages/initiation.bpmn"))
    flow = root.xpath("//bpmn:sequenceFlow[@sourceRef='window_accept']", namespaces=NS)[0]
    flow.getparent().remove(flow)
    pages = Pages(client, "analyst1")
    refused = deploy_from_modeler(pages, etree.tostring(root), name="stages/initiation.bpmn").get_json()["error"]
    assert {(p["rule"], p["element"]) for p in refused["problems"]} == {
        ("outgoing", "window_accept"), ("reachable", flow.get("targetRef"))}
    assert "没有出口顺序流" in refused["problems"][0]["message"] + refused["problems"][1]["message"]
    pages.get("/lang/en")
    english = deploy_from_modeler(pages, etree.tostring(root), name="stages/initiation.bpmn").get_json()["error"]
    assert "2 problem" in english["message"] and all("（" not in p["message"] for p in english["problems"])
    assert any("no outgoing sequence flow" in p["message"] for p in english["problems"])


def test_the_admin_pages_and_the_404_page_speak_english_when_chosen(client):
    pages = Pages(client, "analyst1")
    pages.get("/lang/en")
    index = pages.text("/admin/")
    assert "Drafts waiting" in index or "Versions" in index
    assert "流程管理" not in index and "Flows" in index
    modeler = pages.text(f"/admin/modeler/1/{CONSTRUCTION}")
    text = json.loads(modeler.split('id="ui-text">')[1].split("</script>")[0])
    assert text["已加载。修改后点击“保存草稿”：系统先校验，通过后保存为草稿版本，核对后再启用。"].startswith("Loaded.")
    assert all(value != key for key, value in text.items()), [k for k, v in text.items() if k == v]
    missing = pages.get("/admin/nowhere")
    assert missing.status_code == 404
    assert "does not exist" in missing.get_data(as_text=True) and "页面不存在" not in missing.get_data(as_text=True)


def test_migrate_and_undo_from_the_pages(client, platform, analyst):  # noqa: F811
    instance_id = start_construction(platform)
    pages = Pages(client, "analyst1")
    version = deploy_from_modeler(pages, add_parallel_review(shipped())).get_json()["version"]
    listing = pages.text("/admin/migrations")
    assert f'value="{instance_id}"' in listing
    html = pages.post("/admin/migrations", {"version": str(version), "instance": str(instance_id)}).get_data(
        as_text=True)
    assert f"已迁移到 <span class=\"mono\">stage_construction@{version}</span>" in html
    migration_id = int(html.split("迁移编号 ")[1].split("）")[0])
    response = pages.post(f"/admin/migrations/{migration_id}/undo")
    assert response.status_code == 302
    assert "已撤销迁移" in pages.text("/admin/migrations")


def test_forms_are_shown_and_an_edited_schema_is_checked(client):
    pages = Pages(client, "analyst1")
    assert "outcome" in pages.text("/admin/forms/review.schema.json")
    assert pages.get("/admin/forms/nope.schema.json").status_code == 404
    token = {"X-CSRFToken": pages.token()}
    ok = client.post("/admin/forms/review.schema.json/check", data='{"type": "object"}', headers=token)
    assert ok.get_json() == {"ok": True, "errors": []}
    bad = client.post("/admin/forms/review.schema.json/check", data='{"type": 3}', headers=token).get_json()
    assert not bad["ok"] and "JSON Schema" in bad["errors"][0]
    broken = client.post("/admin/forms/review.schema.json/check", data="{", headers=token).get_json()
    assert not broken["ok"] and "JSON" in broken["errors"][0]
