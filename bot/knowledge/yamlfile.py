"""Read one YAML file while keeping the line of every value, for ``file:line`` errors."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from bot.knowledge.problems import Problem

try:  # libyaml is several times faster and keeps the same line marks
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader


def load_data(path: Path) -> Any:
    """A YAML file's plain data (``{}`` when empty), read with libyaml where PyYAML has it.

    For the labelled corpora: at 10,000 messages the pure-Python loader takes seconds a file.
    """
    return parse_data(path.read_text(encoding="utf-8"))


def parse_data(text: str) -> Any:
    """``load_data`` for text not yet written to a file (``{}`` when empty)."""
    return yaml.load(text, Loader=_Loader) or {}


@dataclass(frozen=True)
class YamlDocument:
    """A parsed file: its data and the node tree that remembers lines."""

    path: Path
    label: str
    data: Any
    root: yaml.Node | None

    def line_of(self, location: tuple[int | str, ...]) -> int:
        """Return the 1-based line of the deepest node ``location`` reaches."""
        node = self.root
        if node is None:
            return 1
        for step in location:
            child = _child(node, step)
            if child is None:
                break
            node = child
        return node.start_mark.line + 1

    def validate(self, model: type[BaseModel]) -> tuple[BaseModel | None, list[Problem]]:
        """Validate the data against ``model``; report every error with its line."""
        try:
            return model.model_validate(self.data), []
        except ValidationError as error:
            return None, [
                Problem(self.label, self.line_of(tuple(item["loc"])), _message(item))
                for item in error.errors()
            ]


def _child(node: yaml.Node, step: int | str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == step:
                return value
    if isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
        return node.value[step]
    return None


def _message(item: dict[str, Any]) -> str:
    field = ".".join(str(step) for step in item["loc"]) or "file"
    text = str(item["msg"]).removeprefix("Value error, ")
    if item["type"] == "extra_forbidden":
        return f"{field}: unknown key (is it misspelt?)"
    if item["type"] == "missing":
        return f"{field}: required but missing"
    if item["type"] == "string_type" and isinstance(item.get("input"), bool):
        return (
            f"{field}: YAML reads yes/no/on/off/true/false as a yes-or-no; put the word in quotes"
        )
    if item["type"] in _NUMBER_ERRORS:
        given = item.get("input")
        if isinstance(given, bool):
            return f"{field}: YAML reads yes/no/on/off/true/false as a yes-or-no; give a number"
        return f"{field}: should be a number, not {_shown(given)}"
    if item["type"] == "string_too_short":
        return f"{field}: is empty"
    return f"{field}: {text}"


_NUMBER_ERRORS = frozenset({"float_type", "int_type", "float_parsing", "int_parsing"})


def _shown(value: object) -> str:
    """A YAML value as a moderator wrote it, short."""
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _duplicate_keys(node: yaml.Node | None, label: str) -> list[Problem]:
    """PyYAML keeps the last of two equal keys silently; a moderator would lose text."""
    problems: list[Problem] = []
    stack = [node] if node is not None else []
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in current.value:
                if key.value in seen:
                    line = key.start_mark.line + 1
                    problems.append(Problem(label, line, f"'{key.value}' appears twice here"))
                seen.add(key.value)
                stack.append(value)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
    return problems


# What PyYAML was reading when it failed -> what the moderator left open on that line. The
# parser notices an unclosed bracket or quote lines later (often at the end of the file);
# the line to fix is where it was opened.
_LEFT_OPEN = {
    "while parsing a flow sequence": "a '[' on this line is never closed",
    "while parsing a flow mapping": "a '{' on this line is never closed",
    "while scanning a quoted scalar": "a quote on this line is never closed",
}


# A value that opens a quote, and the start of the next item or key: a quote never closed on
# its line. (PyYAML reads on to the next quote in the file and fails somewhere after it.)
_OPENS_QUOTE = re.compile(r"""^\s*(?:-\s+(?:[\w-]+:\s+)?|[\w-]+:\s+)(["'])(.*)$""")
_NEXT_ITEM = re.compile(r"^\s*(?:-\s|[\w-]+:(?:\s|$)|#)")


def _unclosed_quote(lines: list[str], before: int) -> int | None:
    """The first line (1-based, up to ``before``) whose quoted value is never closed on it."""
    for index, line in enumerate(lines[:before]):
        found = _OPENS_QUOTE.match(line)
        if found is None:
            continue
        quote, rest = found.groups()
        closing = rest.replace("\\\\", "").replace(f"\\{quote}", "") if quote == '"' else rest
        if closing.count(quote) % 2 == 1:
            continue  # closed on this line (an odd count of what follows the opening one)
        following = next((text for text in lines[index + 1 :] if text.strip()), "")
        if _NEXT_ITEM.match(following):
            return index + 1
    return None


def _syntax_problem(label: str, error: yaml.MarkedYAMLError, text: str) -> Problem:
    """The line to fix: where a bracket or quote was left open, else where parsing failed."""
    left_open = _LEFT_OPEN.get(error.context or "")
    if left_open is not None and error.context_mark is not None:
        return Problem(label, error.context_mark.line + 1, f"YAML syntax error: {left_open}")
    mark = error.problem_mark or error.context_mark
    line = mark.line + 1 if mark is not None else 1
    opened = _unclosed_quote(text.splitlines(), line)
    if opened is not None:
        never_closed = _LEFT_OPEN["while scanning a quoted scalar"]
        return Problem(label, opened, f"YAML syntax error: {never_closed}")
    return Problem(label, line, f"YAML syntax error: {error.problem or error}")


def read_yaml(path: Path, label: str) -> tuple[YamlDocument | None, list[Problem]]:
    """Parse ``path``; on a syntax error return the problem with its line instead."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        return None, [Problem(label, 1, f"not UTF-8 text ({error.reason})")]
    except OSError as error:
        return None, [Problem(label, 1, f"cannot be read: {error.strerror or error}")]
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as error:
        return None, [_syntax_problem(label, error, text)]
    except yaml.YAMLError as error:
        return None, [Problem(label, 1, f"YAML syntax error: {error}")]
    finally:
        loader.dispose()
    problems = _duplicate_keys(root, label)
    if data is None:
        problems.append(Problem(label, 1, "the file is empty"))
    return YamlDocument(path, label, data, root), problems
