"""The operators and calls that can make a value huge, checked before they run.

``9**9**9``, ``'a' * 10**10``, ``1 << 10**10``, ``'%9999999999d' % 1`` or an
f-string width each take one operation to exhaust memory or CPU. The compiler
(:mod:`engine.compiler`) rewrites those operators, f-strings, container
displays and calls into calls of the guards below, which refuse a result past
the limits before computing it (or, for text whose size is only known after,
right after).

Integers may have ``MAX_INT_BITS`` bits, text ``MAX_TEXT`` characters, other
values ``MAX_ITEMS`` items: one per element of a list, tuple, set or dict, one
per ten characters of text, one per 33 bits of an integer. The strict
guards (code that runs in the server process) count a value held twice twice,
walking containers, because ``a = [[0] * 1000] * 1000`` is small in memory but
``str(a)`` is not; the light guards (code that runs isolated, under hard time
and memory limits) only look at lengths, which costs nothing in a loop.

:func:`restricted_globals` is the whole namespace compiled code runs with:
these guards, RestrictedPython's and the builtins scripts may call.
"""

from __future__ import annotations

import builtins
import math
import operator
import re
from collections.abc import Mapping
from types import ModuleType

from RestrictedPython import safe_builtins
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)

from .errors import ScriptRefused, ScriptStopped

MAX_INT_BITS = 16_384  # every integer a 3.11 ``str()`` can print fits
MAX_ITEMS = 100_000  # one item per element, per ten characters of text
MAX_TEXT = MAX_ITEMS * 10
MAX_WIDTH = 1_000_000  # a width or precision in a format
MAX_POW_MOD_BITS = 1 << 20  # exponent bits times modulus bits for pow(a, b, m)

_NUMBERS = frozenset({int, float, bool})
_TEXT = (str, bytes, bytearray)
_SEQUENCES = (str, bytes, bytearray, list, tuple)
_MERGEABLE = (set, frozenset, dict, type({}.keys()), type({}.items()))
_CONTAINERS = frozenset({list, tuple, set, frozenset, dict, type({}.keys()), type({}.values())})
_ITEMS_VIEW = type({}.items())
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-+ #0]*(\*|\d+)?(?:\.(\*|\d+))?")
_DIGITS = re.compile(r"\d+")


def _too_big(what: str, items: int) -> ScriptStopped:
    return ScriptStopped(
        f"stopped: {what} would make a value of about {items:,} items, "
        f"more than the {MAX_ITEMS:,} allowed"
    )


def _text_items(length: int) -> int:
    return (length + 9) // 10


def _fits_text(what: str, length: int) -> None:
    if length > MAX_TEXT:
        raise ScriptStopped(
            f"stopped: {what} would make a text of {length:,} characters, "
            f"more than the {MAX_TEXT:,} allowed"
        )


def shallow_size(value) -> int:
    """The size of ``value`` from lengths alone: cheap, blind to shared references."""
    if isinstance(value, _TEXT):
        return _text_items(len(value))
    if type(value) is int:
        return 1 + value.bit_length() // 33
    try:
        return 1 + len(value)
    except TypeError:
        return 1


class _Heavy(Exception):
    pass


def size(value, limit: int = MAX_ITEMS) -> int:
    """The size of ``value`` counting a value held n times n times; past ``limit`` it
    stops counting and answers ``limit + 1``. Each container is walked once."""
    try:
        return _walk(value, {}, limit)
    except (_Heavy, RecursionError):
        return limit + 1


def _walk(value, seen: dict, limit: int) -> int:
    kind = type(value)
    if kind is str or kind is bytes:
        return _text_items(len(value))
    if kind is int:
        return 1 + value.bit_length() // 33
    if kind not in _CONTAINERS and kind is not _ITEMS_VIEW:
        return 1
    known = seen.get(id(value))  # the value is alive (held by its parent), its id stable
    if known is not None:
        if known < 0:
            raise _Heavy  # it contains itself: no size would do
        return known
    seen[id(value)] = -1
    total = 1
    if kind is dict or kind is _ITEMS_VIEW:
        pairs = value.items() if kind is dict else value
        for key, item in pairs:  # the (key, item) tuples are temporary: never keyed by id
            total += 1 + _walk(key, seen, limit) + _walk(item, seen, limit)
            if total > limit:
                raise _Heavy
    else:
        total += _flat(value)
        if total > limit:
            raise _Heavy
        if total == 1:  # not flat: walk it
            for item in value:
                total += _walk(item, seen, limit)
                if total > limit:
                    raise _Heavy
    seen[id(value)] = total
    return total


_FLAT_NUMBERS = frozenset({float, bool, type(None)})


def _flat(value) -> int:
    """The size of a container of text only, or of numbers only, at C speed; else 0."""
    if not value:
        return 0
    kinds = set(map(type, value))
    if kinds == {str}:
        return len(value) + sum(map(len, value)) // 10
    if kinds <= _FLAT_NUMBERS:
        return len(value)
    if kinds <= {int, bool}:
        return len(value) + sum(map(int.bit_length, value)) // 33
    return 0


def _int_bits(what: str, bits: int) -> None:
    if bits > MAX_INT_BITS:
        raise ScriptStopped(
            f"stopped: {what} would make a number of about {int(bits):,} bits, "
            f"more than the {MAX_INT_BITS:,} allowed"
        )


def _spec_widths(spec: str) -> None:
    for digits in _DIGITS.findall(spec):
        if len(digits) > 7 or int(digits) > MAX_WIDTH:
            raise ScriptStopped(
                f"stopped: the format {spec[:40]!r} asks for a width or "
                f"precision over {MAX_WIDTH:,}"
            )


def _percent_widths(template) -> None:
    text = template if isinstance(template, str) else template.decode("latin-1")
    for match in _PERCENT_SPEC.finditer(text):
        for part in match.groups():
            if part == "*":
                raise ScriptStopped("stopped: a '*' width in % formatting is not allowed")
            if part:
                _spec_widths(part)


class Guards:
    """The guard functions compiled code calls, strict or light (see the module's text)."""

    def __init__(self, strict: bool):
        self.strict = strict
        self.measure = size if strict else shallow_size
        self._substitutes = {
            id(builtins.pow): self.power,
            id(builtins.round): self.round,
            id(builtins.format): self.format,
            id(builtins.sum): self.sum,
        }
        self._inplace = {
            "+=": self.add, "*=": self.mul, "%=": self.mod, "**=": self.power,
            "<<=": self.lshift, "|=": self.or_, "^=": self.xor, "-=": operator.sub,
            "/=": operator.truediv, "//=": operator.floordiv, "&=": operator.and_,
            ">>=": operator.rshift, "@=": operator.matmul,
        }  # fmt: skip

    def _fits(self, what: str, size: int) -> None:
        if size > MAX_ITEMS:
            raise _too_big(what, size)

    def _made(self, what: str, value):
        """Checks a value only known once made; cheap, from its length."""
        if isinstance(value, _TEXT):
            _fits_text(what, len(value))
        elif type(value) in _CONTAINERS:
            self._fits(what, shallow_size(value))
        return value

    def add(self, a, b):
        if type(a) in _NUMBERS and type(b) in _NUMBERS:
            return a + b
        if isinstance(a, _TEXT) and isinstance(b, _TEXT):
            _fits_text("+", len(a) + len(b))
        elif isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES):
            self._fits("+", self.measure(a) + self.measure(b))
        return a + b

    def mul(self, a, b):
        if type(a) in _NUMBERS and type(b) in _NUMBERS:
            if type(a) is not float and type(b) is not float:
                _int_bits("*", a.bit_length() + b.bit_length())
            return a * b
        sequence, times = (a, b) if isinstance(b, int) else (b, a)
        if isinstance(sequence, _SEQUENCES) and isinstance(times, int) and times > 1:
            if isinstance(sequence, _TEXT):
                _fits_text("*", len(sequence) * times)
            else:
                self._fits("*", 1 + (self.measure(sequence) - 1) * times)
        return a * b

    def power(self, a, b, mod=None):
        whole = type(a) in (int, bool) and type(b) in (int, bool)
        if whole and mod is None and b > 0 and abs(a) > 1:
            _int_bits("**", b if b > MAX_INT_BITS else math.log2(abs(a)) * b + 1)
        elif (
            whole and isinstance(mod, int) and b.bit_length() * mod.bit_length() > MAX_POW_MOD_BITS
        ):
            raise ScriptStopped("stopped: pow() with so large an exponent")
        return pow(a, b) if mod is None else pow(a, b, mod)

    def lshift(self, a, b):
        if isinstance(a, int) and isinstance(b, int) and a and b > 0:
            _int_bits("<<", a.bit_length() + b)
        return a << b

    def mod(self, a, b):
        if isinstance(a, _TEXT):
            _percent_widths(a)
            return self._made("%", a % b)
        return a % b

    def or_(self, a, b):
        if isinstance(a, _MERGEABLE) and isinstance(b, _MERGEABLE):
            self._fits("|", self.measure(a) + self.measure(b))
        return a | b

    def xor(self, a, b):
        if isinstance(a, _MERGEABLE) and isinstance(b, _MERGEABLE):
            self._fits("^", self.measure(a) + self.measure(b))
        return a ^ b

    def round(self, number, ndigits=None):
        if isinstance(number, int) and isinstance(ndigits, int) and ndigits < -MAX_INT_BITS:
            raise ScriptStopped(f"stopped: round() to {ndigits} digits")
        return round(number, ndigits)

    def sum(self, values, /, start=0):
        # sum(lists, []) copies its total once per item: quadratic, and the only kind
        # of sum that needs a start other than a number
        if type(start) not in _NUMBERS:
            raise ScriptStopped("stopped: sum() adds numbers only; its start must be a number")
        return builtins.sum(values, start)

    def format(self, value, spec="", conversion=-1):
        if conversion != -1:
            convert = {115: str, 114: repr, 97: ascii}[conversion]
            value = self._made(f"!{chr(conversion)}", convert(value))
        if spec:
            _spec_widths(spec)
        elif type(value) is str:
            return value
        return self._made("format", builtins.format(value, spec))

    def fstring(self, *parts):
        _fits_text("an f-string", sum(map(len, parts)))
        return "".join(parts)

    def display(self, value):
        if self.strict:
            self._fits("a list, tuple, set or dict", self.measure(value))
        return value

    def call(self, function, /, *args, **kwargs):
        function = self._substitutes.get(id(function), function)
        result = function(*args, **kwargs)
        if self.strict:
            self._made("a call", result)
        return result

    def inplace(self, op: str, a, b):
        # never in place: a list grown in place would grow every value that holds it,
        # behind the back of the sizes checked when those were made
        return self._inplace[op](a, b)

    def namespace(self) -> dict:
        """The names the compiler's rewritten code calls."""
        return {
            "_add_": self.add, "_mul_": self.mul, "_pow_": self.power, "_lshift_": self.lshift,
            "_mod_": self.mod, "_or_": self.or_, "_xor_": self.xor, "_format_": self.format,
            "_fstring_": self.fstring, "_display_": self.display, "_call_": self.call,
            "_inplacevar_": self.inplace,
        }  # fmt: skip


_EXTRA_BUILTINS = {
    name: getattr(builtins, name)
    for name in ("min", "max", "sum", "any", "all", "enumerate", "sorted", "reversed",
                 "dict", "list", "set", "map", "filter", "format")
}  # fmt: skip


def _getattr(obj, name, *default):
    try:
        return safer_getattr(obj, name, *default)
    except NotImplementedError as err:  # its word for str.format: a refusal, not a bug
        raise ScriptRefused(str(err)) from None


def restricted_globals(strict: bool) -> dict:
    """What compiled code needs besides the helpers: builtins, RestrictedPython's guards
    and ours (strict in the server process, light in the isolated interpreter)."""
    return {
        "__builtins__": {**safe_builtins, **_EXTRA_BUILTINS},
        "_getattr_": _getattr,
        "_getitem_": default_guarded_getitem,
        "_getiter_": default_guarded_getiter,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_write_": full_write_guard,
        **Guards(strict).namespace(),
    }


def _is_data(value) -> bool:
    return not callable(value) and not isinstance(value, ModuleType)


def script_results(namespace: dict, base: Mapping, external: Mapping | None) -> dict:
    """The task data a script leaves: its names, less functions, guards and outside data."""
    return {
        k: v for k, v in namespace.items()
        if k not in base and not k.startswith("_") and _is_data(v)
        and not (external and k in external)
    }  # fmt: skip
