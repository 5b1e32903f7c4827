"""Compiling scripts and expressions for the sandbox, and deciding where they may run.

Every source is compiled with RestrictedPython (imports and underscore names
refused, attribute, item and iteration access guarded) by a policy that also
routes the operators, f-strings, displays and calls that can make a value huge
through :mod:`engine.guards`.

A static look at the source then decides whether it is *bounded*: no loops,
comprehensions, lambdas, functions, classes or ``try``; calls only to a short
list of cheap functions and non-growing methods, each named directly; no writes
into items or attributes; at most ``MAX_OPERATIONS`` operations. Such code does
a bounded amount of work, each operation on values the guards keep small, so
it runs in the server process at no cost. Anything else runs isolated, under a
time and memory limit (:mod:`engine.isolation`).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import lru_cache
from types import CodeType

from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.compile import syntax_error_template
from RestrictedPython.transformer import RestrictingNodeTransformer, copy_locations

from .errors import ScriptRefused

MAX_OPERATIONS = 16  # the longest real BPMN expression has 7

CHEAP_FUNCTIONS = frozenset({
    "len", "str", "repr", "int", "float", "bool", "abs", "round", "min", "max",
    "isinstance", "any", "all", "sorted", "list", "tuple", "sum", "pow",
})  # fmt: skip
# set() and dict() over data are left out: int hashes are predictable, so colliding
# numbers in a form would make them quadratic.
TYPE_NAMES = frozenset({"int", "float", "bool", "str", "list", "tuple", "dict", "set"})
CHEAP_METHODS = frozenset({
    "strip", "lstrip", "rstrip", "lower", "upper", "title", "capitalize", "casefold",
    "startswith", "endswith", "split", "rsplit", "splitlines", "partition", "rpartition",
    "get", "keys", "values", "items", "count", "find", "rfind", "index", "rindex", "copy",
    "isdigit", "isalpha", "isalnum", "isspace", "isnumeric", "isdecimal", "islower",
    "isupper", "istitle", "isoformat",
})  # fmt: skip

_GUARDED_OPERATORS = {
    ast.Add: "_add_", ast.Mult: "_mul_", ast.Pow: "_pow_", ast.LShift: "_lshift_",
    ast.Mod: "_mod_", ast.BitOr: "_or_", ast.BitXor: "_xor_",
}  # fmt: skip
_STATEMENTS = (ast.Module, ast.Expression, ast.Expr, ast.Assign, ast.AugAssign, ast.If, ast.Pass)
_OPERATIONS = (ast.BinOp, ast.BoolOp, ast.UnaryOp, ast.Compare, ast.Call, ast.Subscript,
               ast.IfExp, ast.List, ast.Tuple, ast.Set, ast.Dict, ast.JoinedStr,
               ast.FormattedValue)  # fmt: skip
_LEAVES = (ast.Constant, ast.Name, ast.Attribute, ast.Slice, ast.keyword, ast.Starred,
           ast.expr_context, ast.operator, ast.boolop, ast.cmpop, ast.unaryop)  # fmt: skip


def _call(identifier: str, args: list, node: ast.AST, keywords=()) -> ast.Call:
    call = ast.Call(func=ast.Name(identifier, ast.Load()), args=args, keywords=list(keywords))
    copy_locations(call, node)
    return ast.fix_missing_locations(call)


class GuardingTransformer(RestrictingNodeTransformer):
    """RestrictedPython's policy, with the operators that can blow up routed to guards."""

    def visit_BinOp(self, node):
        node = self.node_contents_visit(node)
        guard = _GUARDED_OPERATORS.get(type(node.op))
        return _call(guard, [node.left, node.right], node) if guard else node

    def visit_JoinedStr(self, node):
        node = self.node_contents_visit(node)
        parts = []
        for part in node.values:
            if isinstance(part, ast.FormattedValue):
                spec = part.format_spec or ast.Constant("")
                parts.append(_call("_format_", [part.value, spec, ast.Constant(part.conversion)],
                                   part))  # fmt: skip
            else:
                parts.append(part)
        return _call("_fstring_", parts, node)

    def visit_Call(self, node):
        node = super().visit_Call(node)  # may become _apply_(f, ...) for *args/**kwargs
        if isinstance(node.func, ast.Name) and node.func.id == "_apply_":
            node.func = node.args.pop(0)
        return _call("_call_", [node.func, *node.args], node, node.keywords)

    def _display(self, node):
        node = self.node_contents_visit(node)
        constant = all(isinstance(e, ast.Constant) for e in ast.iter_child_nodes(node)
                       if not isinstance(e, ast.expr_context))  # fmt: skip
        if constant or isinstance(getattr(node, "ctx", None), ast.Store | ast.Del):
            return node
        return _call("_display_", [node], node)

    visit_List = visit_Tuple = visit_Set = visit_Dict = _display


class _Bounded(ast.NodeVisitor):
    """Decides whether a parsed source is bounded (see the module's text)."""

    def __init__(self, callables: frozenset[str]):
        self.callables = callables
        self.operations = 0
        self.ok = True

    def refuse(self) -> None:
        self.ok = False

    def count(self, operations: int = 1) -> None:
        self.operations += operations
        self.ok = self.ok and self.operations <= MAX_OPERATIONS

    def generic_visit(self, node):
        if not self.ok:
            return
        if isinstance(node, _OPERATIONS):
            self.count(len(node.ops) if isinstance(node, ast.Compare) else 1)
        elif not isinstance(node, _STATEMENTS + _LEAVES):
            return self.refuse()  # loops, comprehensions, lambdas, def, class, try, walrus...
        super().generic_visit(node)

    def visit_Call(self, node):
        func = node.func
        if isinstance(func, ast.Name) and func.id in self.callables:
            pass
        elif isinstance(func, ast.Attribute) and func.attr in CHEAP_METHODS:
            self.visit(func.value)
        else:
            return self.refuse()
        if any(isinstance(a, ast.Starred) for a in node.args) or any(
            k.arg is None for k in node.keywords
        ):
            return self.refuse()
        self.count()
        for child in (*node.args, *node.keywords):
            self.visit(child)

    def visit_Attribute(self, node):
        self.refuse()  # outside a call of a cheap method (handled in visit_Call)

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load):
            if node.id in self.callables and node.id not in TYPE_NAMES:
                self.refuse()  # a function passed around is a function called unseen
        elif node.id in self.callables or node.id in TYPE_NAMES:
            self.refuse()

    def visit_Assign(self, node):
        for target in node.targets:
            if not _plain_target(target):
                return self.refuse()
        self.generic_visit(node)

    def visit_AugAssign(self, node):
        if not isinstance(node.target, ast.Name):
            return self.refuse()
        self.generic_visit(node)


def _plain_target(target: ast.AST) -> bool:
    if isinstance(target, ast.Starred):
        target = target.value
    if isinstance(target, ast.Tuple | ast.List):
        return all(_plain_target(t) for t in target.elts)
    return isinstance(target, ast.Name)


@dataclass(frozen=True)
class Compiled:
    """Compiled restricted code; ``bounded`` code may run in the server process."""

    source: str
    code: CodeType
    bounded: bool
    names: frozenset[str]
    is_expression: bool


@lru_cache(maxsize=4096)
def compile_source(source: str, is_expression: bool, callables: frozenset[str]) -> Compiled:
    """Compile ``source`` for the sandbox, or raise :class:`ScriptRefused` (syntax errors too)."""
    text = source.strip() if is_expression else source
    filename = "<expression>" if is_expression else "<script>"
    try:
        tree = ast.parse(text, filename, mode="eval" if is_expression else "exec")
    except SyntaxError as err:
        raise ScriptRefused(syntax_error_template.format(
            lineno=err.lineno, type="SyntaxError", msg=err.msg,
            statement=err.text.strip() if err.text else None,
        )) from None  # fmt: skip
    except (ValueError, RecursionError, MemoryError) as err:
        raise ScriptRefused(f"The source cannot be compiled: {err}") from None
    if any(isinstance(node, ast.Import | ast.ImportFrom) for node in ast.walk(tree)):
        raise ScriptRefused("Imports are not allowed in scripts")
    names = frozenset(n.id for n in ast.walk(tree) if isinstance(n, ast.Name))
    check = _Bounded(callables)
    check.visit(tree)
    compile_restricted = compile_restricted_eval if is_expression else compile_restricted_exec
    try:
        result = compile_restricted(tree, filename, policy=GuardingTransformer)
    except (RecursionError, MemoryError):
        raise ScriptRefused("The source is nested too deeply to compile") from None
    if result.errors:
        raise ScriptRefused("; ".join(result.errors))
    return Compiled(source, result.code, check.ok, names, is_expression)
