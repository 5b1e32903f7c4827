"""Simple JUEL (the expression language of Camunda 7 and Activiti) read as sandbox Python.

Camunda Modeler writes gateway conditions and timer values as ``${approved}``,
``#{!approved}``, ``${kind == 'urgent' && amount > 100}``. The subset below has
one meaning in both languages, so it is translated; anything else (method
calls, ``?:``, brackets, beans) is refused with the reason, because guessing at
Java semantics would make a case go the wrong way.

    ${x}  #{!x}  ${a == 'b'}  ${a != "b"}  ${n >= 3}  &&  ||  !  and  or  not
    eq ne lt gt le ge  empty  true false null  a.b (a field of a)  ( )
"""

from __future__ import annotations

import re

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<number>\d+(?:\.\d+)?)
    | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    | (?P<name>[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*)
    | (?P<op>==|!=|<=|>=|&&|\|\||[<>!()])
    )""",
    re.VERBOSE,
)
_WORDS = {
    "and": "and", "or": "or", "not": "not", "eq": "==", "ne": "!=", "lt": "<", "gt": ">",
    "le": "<=", "ge": ">=", "true": "True", "false": "False", "null": "None", "empty": "not",
}  # fmt: skip
_OPS = {"&&": "and", "||": "or", "!": "not", "==": "==", "!=": "!=", "<": "<", ">": ">",
        "<=": "<=", ">=": ">=", "(": "(", ")": ")"}  # fmt: skip
_WRAPPED = re.compile(r"^\s*[$#]\{(?P<body>.*)\}\s*$", re.DOTALL)


class NotTranslatable(ValueError):
    """The text is JUEL, but not the simple part of it that means the same in Python."""


def is_juel(text: str | None) -> bool:
    return bool(text) and ("${" in text or "#{" in text)


def _name(dotted: str) -> str:
    head, *fields = dotted.split(".")
    if head.startswith("_") or any(f.startswith("_") for f in fields):
        raise NotTranslatable(f"the name {dotted!r} starts with an underscore")
    return head + "".join(f"[{f!r}]" for f in fields)


def translate(text: str) -> str:
    """The Python expression for a JUEL ``${...}`` / ``#{...}`` text, or NotTranslatable."""
    match = _WRAPPED.match(text)
    if not match:
        raise NotTranslatable(
            "only a whole ${...} expression can be read (text around it is a template)"
        )
    body, out, at = match.group("body"), [], 0
    while at < len(body):
        if body[at:].strip() == "":
            break
        token = _TOKEN.match(body, at)
        if token is None or token.end() == at:
            rest = body[at:].strip()
            raise NotTranslatable(f"cannot read {rest[:20]!r}: only names, numbers, strings, "
                                  "comparisons, &&, ||, ! and brackets are translated")  # fmt: skip
        at = token.end()
        kind = token.lastgroup
        value = token.group(kind)
        if kind == "name":
            word = _WORDS.get(value)
            if word is None and at < len(body) and body[at:].lstrip().startswith("("):
                raise NotTranslatable(f"{value}(...) calls a method, which JUEL runs in Java")
            out.append(word if word is not None else _name(value))
        elif kind == "op":
            out.append(_OPS[value])
        else:
            out.append(value)
    if not out:
        raise NotTranslatable("the expression is empty")
    return " ".join(out).replace("( ", "(").replace(" )", ")")


_FEEL_TOKEN = re.compile(
    r"""\s*(?:
      (?P<number>\d+(?:\.\d+)?)
    | (?P<string>"(?:[^"\\]|\\.)*")
    | (?P<name>[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*)
    | (?P<op>!=|<=|>=|[=<>()])
    )""",
    re.VERBOSE,
)
_FEEL_WORDS = {"and": "and", "or": "or", "not": "not", "true": "True", "false": "False",
               "null": "None"}  # fmt: skip
_FEEL_KEYWORDS = frozenset({"if", "then", "else", "for", "in", "return", "some", "every",
                            "satisfies", "function", "between", "instance", "of"})  # fmt: skip
_FEEL_OPS = {"=": "==", "!=": "!=", "<": "<", ">": ">", "<=": "<=", ">=": ">=", "(": "(",
             ")": ")"}  # fmt: skip


def is_feel(text: str | None) -> bool:
    return bool(text) and text.lstrip().startswith("=")


def translate_feel(text: str) -> str:
    """The Python for a simple FEEL expression (Zeebe's ``=approved``, ``=amount > 100 and
    kind = "urgent"``, ``=not(approved)``), or NotTranslatable."""
    body, out, at = text.lstrip()[1:], [], 0
    while at < len(body):
        if body[at:].strip() == "":
            break
        token = _FEEL_TOKEN.match(body, at)
        if token is None or token.end() == at:
            rest = body[at:].strip()
            raise NotTranslatable(
                f"cannot read {rest[:20]!r}: only names, numbers, strings, comparisons, and, "
                "or, not() and brackets are translated"
            )
        at = token.end()
        kind = token.lastgroup
        value = token.group(kind)
        if kind == "name":
            word = _FEEL_WORDS.get(value)
            if value in _FEEL_KEYWORDS:
                raise NotTranslatable(f"FEEL's {value!r} has no simple Python reading")
            if word is None and body[at:].lstrip().startswith("("):
                raise NotTranslatable(f"{value}(...) calls a FEEL function")
            out.append(word if word is not None else _name(value))
        elif kind == "op":
            out.append(_FEEL_OPS[value])
        else:
            out.append(value)
    if not out:
        raise NotTranslatable("the expression is empty")
    return " ".join(out).replace("( ", "(").replace(" )", ")")


def to_python(text: str) -> str:
    """The Python for a JUEL ``${...}`` or a FEEL ``=...`` expression, or NotTranslatable."""
    return translate(text) if is_juel(text) else translate_feel(text)
