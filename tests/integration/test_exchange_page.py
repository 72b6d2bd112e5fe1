"""The administrator's data exchange page: tables, failures with reasons, corrections, code tables."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from app.db import transaction
from app.models import ExchangeCode, ExchangeOverride, ExchangeRow
from app.services.exchange import frontdb, service
from app.services.exchange import tables as t
from tests.integration.test_exchange import _project
from tests.integration.webclient import Pages


@pytest.fixture
def front(platform):
    """The platform's own front database (HN_SPGL_URL of the test settings), emptied around the test."""
    database = service.front_database(platform.settings.SPGL_URL)

    def empty():
        with database.begin() as conn:
            for spec in t.TABLES:
                conn.execute(delete(frontdb.table(spec.name)))
    empty()
    yield database
    empty()
    with transaction(platform.sessions) as session:
        session.execute(delete(ExchangeCode).where(ExchangeCode.code_table == "GCFL", ExchangeCode.code == "7"))


def test_only_administrators_open_the_exchange_page(client):
    assert client.get("/admin/exchange").status_code == 302
    assert Pages(client, "analyst1").get("/admin/exchange").status_code == 403
    assert Pages(client, "admin").get("/admin/exchange").status_code == 200


def test_failures_are_listed_with_their_reason_and_corrected_from_the_page(client, platform, front):
    _project(platform)
    pages = Pages(client, "admin")
    assert pages.post("/admin/exchange/run").status_code == 302
    html = pages.text("/admin/exchange")
    assert "SPGL_XMJBXXB" in html and "等待上级数据" in html  # the project waits for its flow
    with transaction(platform.sessions) as session:
        project = session.scalar(select(ExchangeRow).where(ExchangeRow.table_name == t.PROJECT.name))
    bad = pages.post(f"/admin/exchange/rows/{project.id}/correction", {"field": "ZTZE", "value": "很多"})
    assert bad.status_code == 302 and "很多" in pages.text("/admin/exchange")  # the flash names the bad value
    with transaction(platform.sessions) as session:
        assert session.scalar(select(ExchangeOverride)) is None
    pages.post(f"/admin/exchange/rows/{project.id}/correction", {"field": "ZTZE", "value": "-"})
    pages.post(f"/admin/exchange/rows/{project.id}/correction", {"field": "XMMC", "value": ""})
    pages.post(f"/admin/exchange/rows/{project.id}/correction", {"field": "JSDD", "value": "x" * 501})
    pages.post(f"/admin/exchange/rows/{project.id}/correction", {"field": "GCFL", "value": "7"})
    pages.post("/admin/exchange/run")
    html = pages.text("/admin/exchange")
    assert "本地校验未通过" in html and "GCFL（工程分类）的代码 7 不在代码表 GCFL 中" in html

    saved = pages.post("/admin/exchange/codes", {"table": "GCFL", "code": "7", "name": "园林绿化工程", "active": "1"})
    assert saved.status_code == 302
    refused = pages.post("/admin/exchange/codes", {"table": "GCFL", "code": "不行", "name": "x"})
    assert refused.status_code == 302
    with transaction(platform.sessions) as session:
        assert [e.code for e in session.scalars(select(ExchangeCode).where(
            ExchangeCode.code_table == "GCFL", ExchangeCode.name == "园林绿化工程"))] == ["7"]
        assert session.scalar(select(ExchangeCode).where(ExchangeCode.code == "不行")) is None
    pages.post("/admin/exchange/run")
    with transaction(platform.sessions) as session:
        assert session.get(ExchangeRow, project.id).state != "invalid"

    pages.get("/lang/en?next=/")
    english = pages.text("/admin/exchange")
    assert "Data exchange" in english and "Failures and their reasons" in english and "Code table" in english
