"""Parsing refuses hostile or malformed XML without harm."""

from pathlib import Path

import pytest

from engine.errors import ProcessDefinitionError
from engine.specs import MAX_FILE_BYTES, build_bundles, parse_deployment, read_directory

ROOT = Path(__file__).resolve().parents[2]

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">&xxe;</bpmn:definitions>"""
BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">&lol3;</bpmn:definitions>"""
NOT_BPMN = b"""<?xml version="1.0"?><html><body>hello</body></html>"""
BROKEN = b"""<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"><bpmn:process"""
INVALID = b"""<?xml version="1.0"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
<bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="s" bogus="1"/><bpmn:nonsense/></bpmn:process>
</bpmn:definitions>"""


@pytest.mark.parametrize("content,fragment", [
    (XXE, "DOCTYPE"), (BOMB, "DOCTYPE"), (NOT_BPMN, "not a BPMN"), (BROKEN, "well-formed"),
    (INVALID, ""), (b"x" * (MAX_FILE_BYTES + 1), "larger"),
])
def test_hostile_or_broken_files_are_refused(content, fragment):
    with pytest.raises(ProcessDefinitionError) as err:
        parse_deployment({"bad.bpmn": content})
    assert err.value.problems and err.value.problems[0]["file"] == "bad.bpmn"
    assert fragment in err.value.problems[0]["message"]
    assert "root:x:0:0" not in str(err.value.problems)  # no file content leaks back


def test_the_shipped_processes_parse():
    bundles = build_bundles(parse_deployment(read_directory(ROOT / "processes")), 1)
    assert {"stage_initiation", "stage_engineering", "stage_construction", "stage_acceptance",
            "parallel_utilities", "correction"} <= set(bundles)
    assert "correction" in bundles["stage_initiation"].subprocess_specs
    assert bundles["stage_initiation"].key == "stage_initiation@1"
