"""Parsing the flows: hardened XML reading, XSD validation, specs cached per version.

A *deployment* is a complete set of BPMN and DMN files with a version number;
call activities and business rule tasks resolve inside it.  Each process of a
deployment becomes a :class:`SpecBundle` (the spec plus the specs of every
process it calls), cached by ``(process_id, version)``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from .errors import ProcessDefinitionError, SpecNotFound
from .gateways import use_scoped_gateways
from .timers import use_platform_clock

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DMN_NAMESPACES = {"https://www.omg.org/spec/DMN/20191111/MODEL/",
                  "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
                  "https://www.omg.org/spec/DMN/20240513/MODEL/"}
#: Largest file accepted; the biggest stage diagram is well under 200 KB.
MAX_FILE_BYTES = 2 * 1024 * 1024

_VALIDATOR = BpmnValidator()
_VALIDATOR_LOCK = threading.Lock()


def _xml_parser() -> etree.XMLParser:
    # No DTDs, no entities, no network, no huge trees: XXE and entity bombs die here.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           dtd_validation=False, huge_tree=False, remove_comments=True,
                           remove_pis=True)


def read_xml(name: str, content: bytes) -> etree._ElementTree:
    """Parse untrusted XML safely; refuse DTDs, entities and oversized files."""
    if len(content) > MAX_FILE_BYTES:
        message = f"the file is larger than {MAX_FILE_BYTES // 1024} KB"
        raise ProcessDefinitionError(f"{name}: {message}", [{"file": name, "message": message}])
    try:
        tree = etree.ElementTree(etree.fromstring(content, _xml_parser()))
    except etree.XMLSyntaxError as exc:
        message = f"not well-formed XML: {exc}"
        raise ProcessDefinitionError(f"{name}: {message}",
                                     [{"file": name, "line": exc.lineno, "message": message}]) from exc
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        message = "a DOCTYPE (and with it any entity) is not allowed in process files"
        raise ProcessDefinitionError(f"{name}: {message}", [{"file": name, "message": message}])
    return tree


def file_kind(tree: etree._ElementTree) -> str:
    """Return ``bpmn`` or ``dmn`` from the root element, or raise for other XML."""
    root = tree.getroot()
    namespace = etree.QName(root).namespace
    if namespace == BPMN_NS and etree.QName(root).localname == "definitions":
        return "bpmn"
    if namespace in DMN_NAMESPACES and etree.QName(root).localname == "definitions":
        return "dmn"
    message = f"not a BPMN or DMN document: the root element is {root.tag}"
    raise ProcessDefinitionError(message, [{"message": message}])


def parse_deployment(files: Mapping[str, bytes]) -> SpiffBpmnParser:
    """Parse and XSD-validate a complete set of files into one parser."""
    parser = SpiffBpmnParser(validator=None)
    problems = []
    for name in sorted(files):
        try:
            tree = read_xml(name, files[name])
            kind = file_kind(tree)
            if kind == "bpmn":
                with _VALIDATOR_LOCK:
                    _VALIDATOR.validate(tree.getroot(), name)
                parser.add_bpmn_xml(tree.getroot(), filename=name)
            else:
                parser.add_dmn_xml(tree.getroot(), filename=name)
        except ProcessDefinitionError as exc:
            problems.extend({"file": name, **p} for p in exc.problems)
        except ValidationException as exc:
            problems.append({"file": name, "line": getattr(exc, "line_number", None),
                             "element": getattr(exc, "id", None), "message": str(exc).splitlines()[0]})
    if problems:
        raise ProcessDefinitionError("the files could not be parsed", problems)
    return parser


@dataclass(frozen=True)
class SpecBundle:
    """One executable process of one deployment: its spec and called specs."""

    process_id: str
    version: int
    spec: object
    subprocess_specs: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The spec key stored beside each workflow state."""
        return f"{self.process_id}@{self.version}"


def connect_loop_children(spec) -> object:
    """Wire every multi-instance task's child spec to merge its results into the parent task.

    SpiffWorkflow connects a child spec's ``completed_event`` to the loop's
    ``merge_child`` only when it creates children (or when it deserializes a
    spec).  Our states are restored around a parsed spec, maybe in another
    process than the one that created the children: without this the loop would
    never collect them and never complete.
    """
    for task_spec in list(spec.task_specs.values()):
        child = spec.task_specs.get(getattr(task_spec, "task_spec", None)) if isinstance(task_spec, LoopTask) else None
        if child is not None and not child.completed_event.is_connected(task_spec.merge_child):
            child.completed_event.connect(task_spec.merge_child)
    return spec


def _prepare(spec) -> object:
    """Our adjustments to a parsed spec: platform-clock timers, scoped joins, loop wiring."""
    return connect_loop_children(use_scoped_gateways(use_platform_clock(spec)))


def build_bundles(parser: SpiffBpmnParser, version: int) -> dict[str, SpecBundle]:
    """Build a bundle for every process in a parsed deployment."""
    bundles = {}
    try:
        for process_id in parser.get_process_ids():
            spec = _prepare(parser.get_spec(process_id))
            subprocess_specs = {name: _prepare(sub)
                                for name, sub in parser.get_subprocess_specs(process_id).items()}
            bundles[process_id] = SpecBundle(process_id, version, spec, subprocess_specs)
    except ValidationException as exc:
        raise ProcessDefinitionError("a process could not be built", [
            {"file": getattr(exc, "file_name", None), "element": getattr(exc, "id", None),
             "message": str(exc).splitlines()[0]}]) from exc
    return bundles


def read_directory(path: Path) -> dict[str, bytes]:
    """Read every ``.bpmn`` and ``.dmn`` file below ``path``, keyed by relative path."""
    path = Path(path)
    return {str(p.relative_to(path)): p.read_bytes()
            for p in sorted(path.rglob("*")) if p.suffix in (".bpmn", ".dmn")}


class SpecCache:
    """Bundles by ``(process_id, version)``; a version is parsed once per process.

    ``source(version)`` returns that deployment's files; it is called on a miss.
    """

    def __init__(self, source: Callable[[int], Mapping[str, bytes]]):
        self._source = source
        self._bundles: dict[tuple[str, int], SpecBundle] = {}
        self._lock = threading.Lock()

    def get(self, process_id: str, version: int) -> SpecBundle:
        """Return the bundle of a process at a deployed version."""
        found = self._bundles.get((process_id, version))
        if found is not None:
            return found
        with self._lock:
            if (process_id, version) not in self._bundles:
                self.add(version, build_bundles(parse_deployment(self._source(version)), version))
        try:
            return self._bundles[(process_id, version)]
        except KeyError:
            raise SpecNotFound(f"process {process_id!r} is not in deployment {version}") from None

    def by_key(self, key: str) -> SpecBundle:
        """Return the bundle named by a spec key ``process_id@version``."""
        process_id, _, version = key.rpartition("@")
        if not process_id or not version.isdigit():
            raise SpecNotFound(f"malformed spec key {key!r}")
        return self.get(process_id, int(version))

    def add(self, version: int, bundles: Mapping[str, SpecBundle]) -> None:
        """Put already-built bundles of a version into the cache."""
        for process_id, bundle in bundles.items():
            self._bundles[(process_id, version)] = bundle
