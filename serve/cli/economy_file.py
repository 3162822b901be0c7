"""The economy file a `ludex project` subcommand reads (YAML or JSON), checked locally before
anything is sent, and the error that stops such a subcommand with its exit status."""

from __future__ import annotations

from pathlib import Path


class ApplyError(Exception):
    """`ludex project apply` stops: `code` is the exit status, the message says why."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def load_definition(file: str) -> dict[str, object]:
    """The economy file (YAML or JSON), checked locally: every problem printed as `path: message`."""
    import yaml

    from engine.definitions import DefinitionError, parse_economy

    try:
        document = yaml.safe_load(Path(file).read_text())
    except OSError as error:
        raise ApplyError(1, f"cannot read {file}: {error.strerror or error}") from error
    except yaml.YAMLError as error:
        raise ApplyError(1, f"{file} is not valid YAML: {error}") from error
    if not isinstance(document, dict):
        raise ApplyError(1, f"{file}: $: must be a mapping")
    try:
        parse_economy(document)
    except DefinitionError as error:
        lines = "\n".join(f"  {path}: {message}" for path, message in error.problems)
        raise ApplyError(1, f"{file} is not a valid economy:\n{lines}") from error
    return document
