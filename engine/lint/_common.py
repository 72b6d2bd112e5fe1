"""What every deployment rule shares: the namespaces and the shape of a finding."""

from __future__ import annotations

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN, "spiffworkflow": SPIFF}


def problem(rule: str, file: str | None, node, zh: str, en: str) -> dict:
    """One finding: its rule, file, element id, line and a bilingual message (and each language alone)."""
    return {"rule": rule, "file": file, "element": _element_id(node), "line": _line(node),
            "message": f"{zh}（{en}）", "message_zh": zh, "message_en": en}


def _element_id(node) -> str | None:
    while node is not None:
        if node.get("id"):
            return node.get("id")
        node = node.getparent()
    return None


def _line(node) -> int | None:
    return getattr(node, "sourceline", None) if node is not None else None


def local(node) -> str:
    return etree.QName(node).localname
