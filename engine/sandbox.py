"""The script sandbox: gateway conditions, timer expressions and scripts.

SpiffWorkflow's stock ``PythonScriptEngine`` hands every expression to plain
``eval``/``exec``.  Here expressions are compiled with RestrictedPython, which
rejects names and attributes starting with ``_`` at compile time, and run with
guards that allow attribute access only on plain data values (never
``str.format``, whose format strings reach attributes on their own) and with a
small set of builtins.  Only vetted helpers are exposed: the application passes
them in, either as plain functions or as factories bound to the task data.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from RestrictedPython import compile_restricted
from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from .errors import ScriptError

#: Types whose public attributes are plain data methods and safe to reach.
_DATA_TYPES = (dict, list, tuple, str, int, float, bool, set, frozenset,
               dt.date, dt.datetime, dt.timedelta, decimal.Decimal, type(None))
#: Attributes that are refused even on data types: they reach attributes or code.
_DENIED_ATTRIBUTES = frozenset({"format", "format_map", "mro", "gi_frame", "gi_code",
                                "f_globals", "f_locals", "f_back", "func_globals"})

_BUILTINS: dict[str, Any] = {
    name: value for name, value in {
        "True": True, "False": False, "None": None,
        "abs": abs, "all": all, "any": any, "bool": bool, "dict": dict, "enumerate": enumerate,
        "filter": filter, "float": float, "int": int, "len": len, "list": list, "map": map,
        "max": max, "min": min, "range": range, "reversed": reversed, "round": round,
        "set": set, "sorted": sorted, "str": str, "sum": sum, "tuple": tuple, "zip": zip,
        "isinstance": isinstance,
        "ValueError": ValueError, "KeyError": KeyError, "TypeError": TypeError,
    }.items()
}


def _guarded_getattr(obj: Any, name: str, default: Any = None) -> Any:
    """Allow public attributes of plain data values only."""
    if name.startswith("_") or name in _DENIED_ATTRIBUTES or not isinstance(obj, _DATA_TYPES):
        raise ScriptError(f"attribute '{name}' is not available in expressions")
    return getattr(obj, name)


def _guarded_getitem(obj: Any, key: Any) -> Any:
    """Subscript plain containers."""
    if not isinstance(obj, (dict, list, tuple, str)):
        raise ScriptError(f"cannot subscript a {type(obj).__name__} in expressions")
    return obj[key]


def _guarded_write(obj: Any) -> Any:
    """Permit item assignment on dicts and lists only."""
    if not isinstance(obj, (dict, list)):
        raise ScriptError(f"cannot modify a {type(obj).__name__} in scripts")
    return obj


def _inplace(op: str, left: Any, right: Any) -> Any:
    """Implement ``+=`` and friends on data values."""
    operations = {"+=": lambda a, b: a + b, "-=": lambda a, b: a - b,
                  "*=": lambda a, b: a * b, "/=": lambda a, b: a / b}
    if op not in operations:
        raise ScriptError(f"operator {op} is not available in scripts")
    return operations[op](left, right)


_GUARDS = {
    "__builtins__": _BUILTINS,
    "_getattr_": _guarded_getattr,
    "_getitem_": _guarded_getitem,
    "_getiter_": iter,
    "_write_": _guarded_write,
    "_inplacevar_": _inplace,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
}


@lru_cache(maxsize=4096)
def compile_expression(source: str, mode: str = "eval"):
    """Compile an expression (``eval``) or script (``exec``) under RestrictedPython."""
    try:
        return compile_restricted(source, filename="<bpmn>", mode=mode)
    except SyntaxError as exc:
        raise ScriptError(f"refused expression {source!r}: {exc}", source=source) from exc


def check_expression(source: str, mode: str = "eval") -> str | None:
    """Return why an expression would be refused, or None when it compiles."""
    try:
        compile_expression(source, mode)
    except ScriptError as exc:
        return exc.message
    return None


HelperFactory = Callable[[dict], Callable[..., Any]]


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """A SpiffWorkflow script environment that evaluates under RestrictedPython.

    ``helpers`` are plain functions; ``data_helpers`` are factories called with
    the task data and returning a function bound to it (e.g. ``refused()``).
    """

    def __init__(self, helpers: Mapping[str, Callable] | None = None,
                 data_helpers: Mapping[str, HelperFactory] | None = None):
        super().__init__({})
        self.helpers = dict(helpers or {})
        self.data_helpers = dict(data_helpers or {})

    def _namespace(self, context: dict, external_context: dict | None) -> dict:
        # Task data first: helpers and guards are laid over it, so data never shadows them.
        namespace = dict(context)
        namespace.update(external_context or {})
        namespace.update(self.helpers)
        for name, factory in self.data_helpers.items():
            namespace[name] = factory(context)
        namespace.update(_GUARDS)
        return namespace

    def evaluate(self, expression, context, external_context=None):
        """Evaluate one expression against the task data."""
        code = compile_expression(expression.strip(), "eval")
        return eval(code, self._namespace(context, external_context))  # noqa: S307 - restricted code

    def execute(self, script, context, external_context=None):
        """Run a script; names it assigns become task data."""
        code = compile_expression(script, "exec")
        namespace = self._namespace(context, external_context)
        reserved = set(_GUARDS) | set(self.helpers) | set(self.data_helpers) | set(external_context or {})
        clash = reserved & set(context)
        if clash:
            raise ScriptError(f"task data shadows helper names: {sorted(clash)}")
        exec(code, namespace)  # noqa: S102 - restricted code
        for key in list(context):
            if key not in namespace:
                del context[key]
        for key, value in namespace.items():
            if key not in reserved and not callable(value):
                context[key] = value
        return True

    def call_service(self, context, **kwargs):
        """Service tasks are not part of the platform's flows."""
        raise ScriptError("service tasks are not supported")


def any_outcome(context: dict, value: str) -> bool:
    """True when any form result in the data, or in a list of results, has ``outcome == value``.

    A multi-instance review collects its instances' results in a list (``reviews_<role>``).
    """
    def hit(v: object) -> bool:
        return isinstance(v, dict) and v.get("outcome") == value
    return any(hit(v) or (isinstance(v, list) and any(hit(x) for x in v)) for v in context.values())


DEFAULT_DATA_HELPERS: dict[str, HelperFactory] = {
    "refused": lambda context: (lambda: any_outcome(context, "refuse")),
}


def make_script_engine(helpers: Mapping[str, Callable] | None = None,
                       data_helpers: Mapping[str, HelperFactory] | None = None) -> PythonScriptEngine:
    """Build a script engine for workflows: sandboxed, with the vetted helpers."""
    merged = dict(DEFAULT_DATA_HELPERS)
    merged.update(data_helpers or {})
    engine = PythonScriptEngine(environment=SandboxEnvironment(helpers, merged))
    engine.validate = lambda expression: compile_expression(expression)
    return engine
