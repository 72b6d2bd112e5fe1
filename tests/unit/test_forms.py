"""Every form is a valid schema; a bad submission names its failing fields."""

from pathlib import Path

import pytest

from engine.errors import FormValidationError
from engine.forms import FormLibrary

FORMS = Path(__file__).resolve().parents[2] / "forms"


@pytest.fixture(scope="module")
def forms():
    return FormLibrary(FORMS)


def test_every_form_loads(forms):
    assert "review.schema.json" in forms
    assert len(forms.names()) >= 13


def test_review_requires_opinion_when_refusing(forms):
    forms.validate("review.schema.json", {"outcome": "approve", "result_number": "琼批2026-1",
                                          "decision_date": "2026-12-01"})
    with pytest.raises(FormValidationError) as err:
        forms.validate("review.schema.json", {"outcome": "refuse"})
    assert "opinion" in err.value.fields


def test_bad_fields_are_named(forms):
    with pytest.raises(FormValidationError) as err:
        forms.validate("stage1_application.schema.json",
                       {"project_name": "x", "investment_type": "lottery", "contact_phone": "12"})
    fields = err.value.fields
    assert "investment_type" in fields and "contact_phone" in fields
    assert "site_address" in fields  # missing required fields are named too


def test_approval_requires_the_document_number_and_date(forms):
    with pytest.raises(FormValidationError) as err:
        forms.validate("review.schema.json", {"outcome": "approve", "opinion": "同意"})
    assert {"result_number", "decision_date"} <= set(err.value.fields)
    forms.validate("review.schema.json", {"outcome": "correct", "opinion": "请补正"})  # not needed otherwise


def test_unknown_fields_are_refused(forms):
    with pytest.raises(FormValidationError):
        forms.validate("review.schema.json", {"outcome": "approve", "sneaky": 1})
