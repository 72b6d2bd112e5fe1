"""The script sandbox refuses the known escapes and runs plain data expressions."""

import pytest

from engine.errors import ScriptError
from engine.sandbox import SandboxEnvironment, check_expression

ESCAPES = [
    "().__class__.__base__.__subclasses__()",
    "__import__('os').system('true')",
    "open('/etc/passwd').read()",
    "getattr((), '__class__')",
    "'{0.__class__.__base__}'.format(())",
    "'{x.__class__}'.format_map({'x': 1})",
    "(lambda: 1).__globals__",
    "[c for c in ().__class__.__mro__]",
    "type(())",
    "eval('1')",
    "exec('x = 1')",
    "compile('1', 'f', 'eval')",
    "globals()",
    "vars()",
    "(x for x in []).gi_frame.f_globals",
    "refused.__closure__",
    "application.__class__",
    "setattr(application, 'x', 1)",
]


@pytest.fixture
def env():
    return SandboxEnvironment(helpers={"double": lambda n: 2 * n},
                              data_helpers={"refused": lambda ctx: (lambda: False)})


@pytest.mark.parametrize("source", ESCAPES)
def test_escapes_are_refused(env, source):
    with pytest.raises((ScriptError, NameError, SyntaxError)):
        env.evaluate(source, {"application": {"a": 1}})


def test_known_escape_fails_at_compile_time():
    assert "invalid" in check_expression("().__class__.__base__.__subclasses__()") or \
        check_expression("().__class__.__base__.__subclasses__()") is not None


def test_plain_expressions_work(env):
    data = {"review_eia": {"outcome": "approve"}, "application": {"water": True, "area": 20},
            "items": ["A", "B"]}
    assert env.evaluate("review_eia['outcome'] == 'approve'", data) is True
    assert env.evaluate("application.get('water') and application['area'] > 10", data) is True
    assert env.evaluate("'B' in items and len(items) == 2", data) is True
    assert env.evaluate("[i.lower() for i in items if i != 'A']", data) == ["b"]
    assert env.evaluate("double(21)", data) == 42
    assert env.evaluate("refused()", data) is False


def test_script_assigns_task_data(env):
    data = {"n": 2}
    env.execute("m = n * 3\nlabels = {'a': 1}\nlabels['b'] = 2", data)
    assert data == {"n": 2, "m": 6, "labels": {"a": 1, "b": 2}}


def test_script_cannot_reach_modules(env):
    with pytest.raises((ScriptError, SyntaxError, NameError, ImportError)):
        env.execute("import os\nx = os.getcwd()", {})
    with pytest.raises((ScriptError, SyntaxError)):
        env.execute("x = ().__class__", {})


def test_data_shadowing_a_helper_is_refused(env):
    with pytest.raises(ScriptError):
        env.execute("y = 1", {"double": 3})
