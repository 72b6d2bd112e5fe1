"""Forms are JSON Schema files in ``forms/``; submissions are validated here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

from .errors import EngineError, FormValidationError

_FORMAT_CHECKER = FormatChecker()


class FormLibrary:
    """The schemas of a forms directory, each checked and compiled once."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self._validators: dict[str, Draft202012Validator] = {}
        self._schemas: dict[str, dict] = {}
        for path in sorted(self.directory.glob("*.schema.json")):
            self.add(path.name, json.loads(path.read_text(encoding="utf-8")))

    def add(self, name: str, schema: dict) -> None:
        """Register a schema under its file name, refusing an invalid schema."""
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            raise EngineError(f"form {name} is not a valid JSON Schema: {exc.message}") from exc
        self._schemas[name] = schema
        self._validators[name] = Draft202012Validator(schema, format_checker=_FORMAT_CHECKER)

    def names(self) -> list[str]:
        """Every known form file name."""
        return sorted(self._schemas)

    def __contains__(self, name: str) -> bool:
        return name in self._schemas

    def schema(self, name: str) -> dict:
        """The JSON Schema of a form."""
        try:
            return self._schemas[name]
        except KeyError:
            raise EngineError(f"unknown form {name!r}") from None

    def ui_hints(self, name: str) -> dict:
        """The optional UI hints stored beside a schema (``x.uischema.json``)."""
        path = self.directory / name.replace(".schema.json", ".uischema.json")
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}

    def validate(self, name: str, data: Any) -> dict:
        """Return ``data`` when it satisfies the form, else raise with every failing field."""
        validator = self._validators.get(name)
        if validator is None:
            raise EngineError(f"unknown form {name!r}")
        fields: dict[str, str] = {}
        for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
            path = "/".join(str(p) for p in error.absolute_path)
            if error.validator == "required":
                missing = error.message.split("'")[1] if "'" in error.message else ""
                path = f"{path}/{missing}".strip("/")
            fields.setdefault(path or "(form)", error.message)
        if fields:
            raise FormValidationError("the form has errors", fields, form=name)
        return data
