"""The engine never imports Flask or the app; services never commit."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_engine_imports_neither_flask_nor_app():
    offenders = {str(p.relative_to(ROOT)): sorted(_imports(p) & {"flask", "app", "werkzeug", "sqlalchemy"})
                 for p in (ROOT / "engine").rglob("*.py")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_services_never_commit_nor_touch_flask():
    bad = []
    for path in (ROOT / "app" / "services").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if ".commit()" in text or "current_app" in text or "from flask" in text:
            bad.append(str(path.relative_to(ROOT)))
    assert bad == []
