"""One exception hierarchy for the workflow core; the web layer maps it to statuses."""


class EngineError(Exception):
    """Base class of every error the workflow core raises on purpose."""

    code = "engine_error"

    def __init__(self, message: str, **context):
        super().__init__(message)
        self.message = message
        self.context = context


class ProcessDefinitionError(EngineError):
    """A BPMN or DMN file cannot be deployed; ``problems`` lists each finding."""

    code = "invalid_process"

    def __init__(self, message: str, problems: list[dict] | None = None, **context):
        super().__init__(message, **context)
        self.problems = problems or []


class SpecNotFound(EngineError):
    """A process id or spec key names no deployed process."""

    code = "process_not_found"


class ScriptError(EngineError):
    """An expression or script was refused by the sandbox or failed in it."""

    code = "script_error"


class TaskStateError(EngineError):
    """A task cannot be completed in its present state (already done, not ready)."""

    code = "task_state"


class FormValidationError(EngineError):
    """Submitted data breaks its form's JSON Schema; ``fields`` maps path to message."""

    code = "invalid_form"

    def __init__(self, message: str, fields: dict[str, str], **context):
        super().__init__(message, **context)
        self.fields = fields


class StateFormatError(EngineError):
    """A stored workflow state cannot be read by this serializer."""

    code = "state_format"
