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


# -- the services' domains (docs/architecture.md, "Services by domain") ---------------------------

LAYERS = ["cluster", "trail", "organisation", "flows", "workflow", "catalogue", "timelimits", "people", "security",
          "seal", "notify", "oversight", "exchange", "forecast", "planning", "intermediary",
          "provisioning"]
SERVICES = ROOT / "app" / "services"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported_modules(path: Path) -> set[str]:
    """Every module a file imports, resolved to dotted names (relative ones included, lazy ones too)."""
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)  # `from pkg import module`
    return found


def _service_imports() -> dict[str, set[str]]:
    """Service module -> the service modules it imports."""
    modules = {_module_name(p): p for p in SERVICES.rglob("*.py")}
    return {name: {m for m in _imported_modules(path) if m in modules and m != name}
            for name, path in modules.items()}


def _domain(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if len(parts) > 2 else None


def test_every_service_lives_in_a_known_domain():
    loose = [p.name for p in SERVICES.glob("*.py") if p.name != "__init__.py"]
    unknown = sorted({p.name for p in SERVICES.iterdir() if p.is_dir() and p.name != "__pycache__"} - set(LAYERS))
    assert loose == [] and unknown == []
    missing_docs = [d for d in LAYERS if not ast.get_docstring(ast.parse((SERVICES / d / "__init__.py").read_text()))]
    assert missing_docs == []


def test_domains_import_only_the_layers_below_them():
    upward = []
    for module, imported in _service_imports().items():
        own = _domain(module)
        if own is None:
            continue
        for target in imported:
            other = _domain(target)
            if other is not None and LAYERS.index(other) > LAYERS.index(own):
                upward.append(f"{module} -> {target}")
    assert sorted(upward) == []


def test_no_import_circle_between_service_modules():
    graph = _service_imports()
    done: set[str] = set()
    circles = []

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            circles.append(" -> ".join(path[path.index(node):] + [node]))
            return
        if node in done:
            return
        for target in sorted(graph.get(node, ())):
            visit(target, path + [node])
        done.add(node)

    for start in sorted(graph):
        visit(start, [])
    assert circles == []


def test_the_platform_and_the_hooks_import_no_service():
    for name in ("platform.py", "hooks.py"):
        imported = _imported_modules(ROOT / "app" / name)
        assert sorted(m for m in imported if m.startswith("app.services")) == [], name
