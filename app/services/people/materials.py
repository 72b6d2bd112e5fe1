"""Application materials (申请材料): files on disk by sha256, one row per project and name.

The bytes are stored outside the database, in the platform's storage
(``app.storage``: ``HN_UPLOAD_DIR`` or S3-compatible object storage) under
``ab/abcdef...`` (content-addressed: the same file uploaded twice is stored once).
A file is written before its row, so a failed transaction leaves at most an
unreferenced file, never a row without its bytes.  One upload of a material serves every
item of the project that lists a material of that name.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import InvalidInput, NotFound
from ...models import Material, MaterialVersion, Project, User
from ...stages import Stage
from ...text import clean_name as clean_name_text
from ..flows.deployments import active_version
from ..trail import audit

#: Accepted types, told apart by their first bytes (the client's claim is not trusted).
SIGNATURES = ((b"%PDF-", "application/pdf", ".pdf"), (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
              (b"\xff\xd8\xff", "image/jpeg", ".jpg"), (b"PK\x03\x04", "application/ofd", ".ofd"))
ALLOWED = "PDF、OFD、JPG、PNG"


def clean_name(original: str) -> str:  # the uploaded file's name (the material's own name: app.text)
    """A display-safe file name: no path, no control or reserved characters, at most 120 characters."""
    name = unicodedata.normalize("NFC", original or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.sub(r'[<>:"|?*;]+', "_", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    if len(name) > 120:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:110] + dot + ext[:9]) if dot and len(ext) <= 9 else name[:120]
    return name or "material"


EXTENSIONS = {ctype: ext for _, ctype, ext in SIGNATURES}


def typed_name(filename: str, content_type: str) -> str:
    """The cleaned file name with the extension of its detected type (``x.html`` holding a PDF: ``x.pdf``)."""
    name = clean_name(filename)
    stem, dot, _ = name.rpartition(".")
    return (stem if dot and stem else name) + EXTENSIONS.get(content_type, "")


def sniff(head: bytes) -> tuple[str, str] | None:
    """The (content type, extension) of an accepted file, judged by its first bytes."""
    return next(((ctype, ext) for magic, ctype, ext in SIGNATURES if head.startswith(magic)), None)


def blob_key(digest: str) -> str:
    """The storage key of a material's bytes (by their sha256)."""
    return f"{digest[:2]}/{digest}"


def _write_blob(platform, digest: str, content: bytes, content_type: str) -> None:
    storage = platform.storage
    key = blob_key(digest)
    if not storage.exists(key):
        storage.put(key, content, content_type)


def store(session: Session, platform, actor: User, project: Project, name: str, filename: str,
          stream: BinaryIO) -> Material:
    """Check and store one uploaded material, replacing an earlier file of the same name."""
    return store_many(session, platform, actor, project, [(name, filename, stream)])[0]


def store_many(session: Session, platform, actor: User, project: Project,
               uploads: list[tuple[str, str, BinaryIO]]) -> list[Material]:
    """Check and store several materials ``(name, filename, stream)`` at once, in a few statements.

    Every file is checked before anything is written: one bad file refuses them all.
    """
    limit = platform.settings.MAX_UPLOAD_BYTES
    checked = []
    for name, filename, stream in uploads:
        name = clean_name_text(name or "")
        if not 1 <= len(name) <= 200:
            raise InvalidInput("请选择材料名称", {"name": "材料名称为1至200字"})
        content = stream.read(limit + 1)
        if not content:
            raise InvalidInput("文件为空", {"file": "请选择要上传的文件"})
        if len(content) > limit:
            raise InvalidInput("文件过大", {"file": f"单个文件不超过 {limit // (1024 * 1024)} MB"})
        kind = sniff(content[:16])
        if kind is None:
            raise InvalidInput("文件类型不支持", {"file": f"只接受 {ALLOWED} 文件"})
        checked.append((name, filename, content, kind[0], hashlib.sha256(content).hexdigest()))
    written = set()
    for _, _, content, content_type, digest in checked:
        if digest not in written:
            _write_blob(platform, digest, content, content_type)
            written.add(digest)
    names = [name for name, *_ in checked]
    rows = {row.name: row for row in session.scalars(select(Material).where(
        Material.project_id == project.id, Material.name.in_(names)))}
    stored = []
    for name, filename, content, content_type, digest in checked:
        row = rows.get(name)
        if row is None:
            row = rows[name] = Material(project_id=project.id, name=name)
            session.add(row)
        row.sha256, row.size, row.content_type = digest, len(content), content_type
        row.original_name = typed_name(filename, content_type)  # the detected type's extension, not the sender's
        row.uploaded_by, row.uploaded_at = actor.id, platform.now()
        if row not in stored:  # a name given twice: its last file is the one kept
            stored.append(row)
    session.flush()
    _add_versions(session, stored)
    for row in stored:
        audit.record(session, platform, "material_uploaded", actor=actor, project_code=project.code,
                     detail={"name": row.name, "sha256": row.sha256, "size": row.size})
    return stored


def _add_versions(session: Session, rows: list[Material]) -> None:
    """Keep each file just stored as its material's next version (a replaced file stays downloadable)."""
    latest: dict[int, MaterialVersion] = {}
    for version in session.scalars(select(MaterialVersion).where(
            MaterialVersion.material_id.in_({row.id for row in rows}))
            .order_by(MaterialVersion.material_id, MaterialVersion.version)):
        latest[version.material_id] = version  # ascending: the last one seen is the newest
    for row in rows:
        last = latest.get(row.id)
        if last is not None and last.sha256 == row.sha256:  # the same file again: no new version
            last.uploaded_by, last.uploaded_at, last.original_name = row.uploaded_by, row.uploaded_at, \
                row.original_name
            continue
        latest[row.id] = version = MaterialVersion(
            material_id=row.id, version=(last.version if last else 0) + 1, sha256=row.sha256, size=row.size,
            content_type=row.content_type, original_name=row.original_name, uploaded_by=row.uploaded_by,
            uploaded_at=row.uploaded_at)
        session.add(version)
    session.flush()


def versions_of(session: Session, material_ids: list[int]) -> dict[int, list[MaterialVersion]]:
    """Every kept version of the given materials, newest first, by material id."""
    found: dict[int, list[MaterialVersion]] = {i: [] for i in material_ids}
    if not material_ids:
        return found
    for row in session.scalars(select(MaterialVersion).where(MaterialVersion.material_id.in_(material_ids))
                               .order_by(MaterialVersion.material_id, MaterialVersion.version.desc())):
        found[row.material_id].append(row)
    return found


def get_version(session: Session, project: Project, material_id: int, version: int) -> MaterialVersion:
    """One kept version of one of this project's materials, or 404."""
    material = get_material(session, project, material_id)
    row = session.scalar(select(MaterialVersion).where(MaterialVersion.material_id == material.id,
                                                       MaterialVersion.version == version))
    if row is None:
        raise NotFound("no such version of the material")
    return row


def project_materials(session: Session, project: Project) -> list[Material]:
    """Every material of a project, by name."""
    return list(session.scalars(select(Material).where(Material.project_id == project.id)
                                .order_by(Material.name)))


def get_material(session: Session, project: Project, material_id: int) -> Material:
    """One material of this project, or 404."""
    row = session.get(Material, material_id)
    if row is None or row.project_id != project.id:
        raise NotFound("no such material")
    return row


def blob(platform, material: Material) -> bytes | None:
    """The bytes of a material (None when the store has lost them)."""
    return platform.storage.get(blob_key(material.sha256))


def stage_item_codes(session: Session, platform, stage: Stage, project: Project,
                     application: dict | None = None) -> list[str]:
    """The items the stage's decision chose for this project, in decision order.

    The latest application of the stage knows its plan; before the first one the
    stage's process is started in memory only (never saved) over the form data
    known so far, so its decision table picks the items.  If even that cannot
    run, every item the catalogue lists for the stage is shown.
    """
    from engine.decisions import decided_items

    from ..catalogue import decisions
    from ..workflow import scripting
    from ..workflow.instances import project_data

    runs = [i for i in project.instances if i.stage_key == stage.key]
    try:
        if runs and (application is None or runs[-1].status in ("running", "approved")):
            latest = runs[-1]
            workflow = platform.runtime.load(latest.state, latest.spec_key, latest.serializer_version)
        else:
            bundle = platform.specs.get(stage.process_id, active_version(session))
            data = dict(application or {})
            start_data = {"project": project_data(project), "application": data}
            with session.no_autoflush:  # the same start data as a real start (DMN facts, planning result)
                platform.hooks.emit("starting", session, platform, project, stage.key, data, start_data)
                start_data.setdefault("facts", decisions.decision_facts(project, stage.key, data))
                with scripting.script_session(session):
                    workflow = platform.runtime.start(bundle, start_data)
        plan = decided_items(workflow)
    except Exception:  # noqa: BLE001 - a preview that cannot run falls back to the whole stage
        plan = None
    if plan is None:
        return [i.code for i in platform.catalog.items_for_stage(stage.key)]
    return [entry["code"] for entry in plan if isinstance(entry, dict) and entry.get("code")]


@dataclass
class Needed:
    """A material a stage needs, the items that need it, and the upload if there is one.

    ``required``: some item lists it as required.  ``blocking``: an application without it is
    refused, i.e. it is required by an item that is neither signed on commitment (告知承诺) nor
    may accept it missing (容缺受理: a non-essential material of an item that allows gaps; the
    window decides that when accepting).
    """

    name: str
    required: bool
    items: list[str] = field(default_factory=list)
    upload: Material | None = None
    blocking: bool = False
    codes: list[str] = field(default_factory=list)
    committed: bool = False  # required by an item signed on commitment (告知承诺): may follow
    tolerable: bool = False  # a non-essential material of an item allowing 容缺受理

    @property
    def later(self) -> str:
        """Why a required material does not block: ``commitment``, ``tolerable`` or empty."""
        if self.blocking or not self.required:
            return ""
        return "commitment" if self.committed else ("tolerable" if self.tolerable else "")

    def as_json(self) -> dict:
        """The entry as the checklist endpoint sends it."""
        upload = self.upload
        return {"name": self.name, "required": self.required, "blocking": self.blocking, "later": self.later,
                "items": self.items,
                "item_codes": self.codes,
                "upload": {"id": upload.id, "original_name": upload.original_name, "size": upload.size,
                           "uploaded_at": upload.uploaded_at.isoformat()} if upload else None}


def _blocks(item, material, committed: set[str]) -> bool:
    if not material.required or item.code in committed:
        return False
    return material.essential or not item.gaps_allowed


def needed_materials(platform, item_codes: list[str], uploads: dict[str, Material],
                     committed: set[str] | frozenset = frozenset()) -> list[Needed]:
    """The materials of the given items merged by name, with the uploads that serve them."""
    needed: dict[str, Needed] = {}
    for code in item_codes:
        try:
            item = platform.catalog.item(code)
        except Exception:  # noqa: BLE001 - an item missing from the catalogue lists no materials
            continue
        for m in item.materials:
            entry = needed.setdefault(m.name, Needed(m.name, m.required, upload=uploads.get(m.name)))
            entry.required = entry.required or m.required
            entry.blocking = entry.blocking or _blocks(item, m, committed)
            if m.required and item.code in committed:
                entry.committed = True
            elif m.required and not m.essential and item.gaps_allowed:
                entry.tolerable = True
            entry.items.append(item.name)
            entry.codes.append(item.code)
    return list(needed.values())


def _committed(application: dict | None) -> set[str]:
    signed = (application or {}).get("commitments") or ()
    return {c for c in signed if isinstance(c, str)} if isinstance(signed, (list, tuple)) else set()


def checklist(session: Session, platform, project: Project, stage: Stage,
              application: dict | None = None, item_codes: list[str] | None = None) -> list[Needed]:
    """The materials of a stage's items, merged by name (one upload serves them all).

    The items are those the stage's decision picks for ``application`` (the answers typed so
    far), unless ``item_codes`` names them.
    """
    uploads = {m.name: m for m in project_materials(session, project)}
    if item_codes is None:
        item_codes = stage_item_codes(session, platform, stage, project, application)
    return needed_materials(platform, item_codes, uploads, _committed(application))


def missing_required(session: Session, platform, project: Project, item_codes: list[str],
                     application: dict | None) -> list[str]:
    """The names of the blocking materials not uploaded for these items (empty: complete)."""
    return [n.name for n in checklist(session, platform, project, None, application, item_codes)
            if n.blocking and n.upload is None]


def eligible_commitments(platform, item_codes: list[str]) -> list[dict]:
    """The decided items an applicant may sign a commitment for (告知承诺), with the commitment's text."""
    found = []
    for code in item_codes:
        try:
            item = platform.catalog.item(code)
        except Exception:  # noqa: BLE001 - not in the catalogue: not signable
            continue
        if item.commitment_allowed:
            found.append({"code": item.code, "name": item.name, "text": commitment_text(item)})
    return found


def commitment_text(item) -> str:
    """The commitment the applicant signs for an item (告知承诺书), from the catalogue's own wording if it has one."""
    own = item.details.get("commitment_text") if hasattr(item, "details") else None
    if isinstance(own, str) and own.strip():
        return own.strip()
    return (f"本单位承诺：本项目已符合“{item.name}”的审批条件和标准，所提交的信息真实有效；"
            f"审批部门当场作出审批决定后，本单位接受主管部门的核查，如不符合承诺，愿承担审批决定被撤销的后果。")


def supply(session: Session, platform, actor: User, project: Project, stage: Stage, application: dict,
           content: bytes, filename: str = "material.pdf", item_codes: list[str] | None = None) -> list[Material]:
    """Upload ``content`` as every blocking material the application still lacks (demo and test filings)."""
    from io import BytesIO
    lacking = [entry.name for entry in checklist(session, platform, project, stage, application, item_codes)
               if entry.blocking and entry.upload is None]
    if not lacking:
        return []
    return store_many(session, platform, actor, project, [(name, filename, BytesIO(content)) for name in lacking])
