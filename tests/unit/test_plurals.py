"""Counted messages read right in English: one field, two fields (the Chinese has no plural)."""

import pytest
from flask import render_template_string
from flask_babel import force_locale

from app import create_app
from app.config import Settings

COUNTED = "{{ ngettext('有 %(num)s 处需要修改。', '有 %(num)s 处需要修改。', n) }}"
SUMMARY = "{{ ngettext('申请未提交：有 %(num)s 处需要修改', '申请未提交：有 %(num)s 处需要修改', n) }}"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("plurals")
    return create_app(Settings.from_env(DATABASE_URL=f"sqlite:///{folder / 'x.db'}", SECRET_KEY="test", TESTING=True))


@pytest.mark.parametrize(("template", "n", "english", "chinese"), [
    (COUNTED, 1, "1 field needs attention.", "有 1 处需要修改。"),
    (COUNTED, 3, "3 fields need attention.", "有 3 处需要修改。"),
    (SUMMARY, 1, "The application was not submitted: 1 thing to correct", "申请未提交：有 1 处需要修改"),
    (SUMMARY, 2, "The application was not submitted: 2 things to correct", "申请未提交：有 2 处需要修改"),
])
def test_a_count_takes_its_plural_in_english_only(app, template, n, english, chinese):
    with app.test_request_context():
        with force_locale("en"):
            assert render_template_string(template, n=n) == english
        with force_locale("zh"):
            assert render_template_string(template, n=n) == chinese
