"""The mutants of one Python source file: small faults a test should notice.

Each mutant replaces one piece of the source text (an operator, a condition,
a constant, a statement) and keeps the rest of the file byte for byte, so its
diff is one or two lines. The operators:

=========  ================================================================
operator   what it does
=========  ================================================================
cmp        flips one comparison: ``<``/``<=``, ``>``/``>=``, ``==``/``!=``,
           ``is``/``is not``, ``in``/``not in``
negate     negates the condition of an ``if``, ``while``, ``x if c else y``,
           a comprehension's ``if`` or an ``assert``
not        drops a ``not``
boolop     ``and`` becomes ``or`` and the other way round
number     an integer constant ±1
bool       ``True`` becomes ``False`` and the other way round
arith      ``+`` becomes ``-`` and the other way round
drop       a statement of a function (a call, an assignment, a ``raise``, ``del``)
           becomes ``pass``
return     ``return X`` becomes ``return None``
loop       ``break`` becomes ``continue`` and the other way round
=========  ================================================================

Left alone: docstrings, annotations, f-strings, ``if TYPE_CHECKING:`` blocks,
``__all__`` and calls of a logger (``log.info(...)``), whose loss no test of
behaviour can see.

A mutant's id is a hash of its file, the function it is in, the text it
replaces and its replacement (and which of several identical ones), so it
survives edits elsewhere in the file: ``tests/mutation/equivalent.txt`` lists
ids.
"""

from __future__ import annotations

import ast
import difflib
import hashlib
from dataclasses import dataclass

FLIPS: dict[type, type] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
LOGGERS = {"log", "logger", "_log", "logging"}


@dataclass(frozen=True)
class Mutant:
    """One fault: in ``path`` (relative to the project), text from
    ``start`` to ``end`` (offsets into the source) replaced by ``replacement``."""

    id: str
    path: str
    line: int
    end_line: int
    operator: str
    where: str
    start: int
    end: int
    original: str
    replacement: str

    def apply(self, source: str) -> str:
        return source[: self.start] + self.replacement + source[self.end :]

    def diff(self, source: str) -> str:
        lines = difflib.unified_diff(
            source.splitlines(keepends=True),
            self.apply(source).splitlines(keepends=True),
            f"a/{self.path}",
            f"b/{self.path}",
            n=1,
        )
        return "".join(lines)


class _Finder(ast.NodeVisitor):
    """Walks one module and collects (node, operator, replacement text)."""

    def __init__(self, source: str):
        self.source = source
        self.found: list[tuple[ast.AST, str, str, str]] = []
        self.where: list[str] = []
        self.functions = 0

    # ------------------------------------------------------------------ helpers

    def add(self, node: ast.AST, operator: str, replacement: str) -> None:
        self.found.append((node, operator, replacement, ".".join(self.where) or "<module>"))

    def add_expr(self, node: ast.expr, operator: str, mutated: ast.expr) -> None:
        self.add(node, operator, "(" + ast.unparse(mutated) + ")")

    def visit_body(self, statements: list[ast.stmt]) -> None:
        for i, statement in enumerate(statements):
            if i == 0 and _is_docstring(statement):
                continue
            self.visit(statement)

    # ------------------------------------------------------------------ scopes

    def visit_Module(self, node: ast.Module) -> None:
        self.visit_body(node.body)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        self.where.append(node.name)
        self.visit_body(node.body)
        self.where.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        for default in [*node.args.defaults, *node.args.kw_defaults]:
            if default is not None:
                self.visit(default)
        self.where.append(node.name)
        self.functions += 1
        self.visit_body(node.body)
        self.functions -= 1
        self.where.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.visit(node.body)

    # ------------------------------------------------------------------ statements

    def drop(self, node: ast.stmt) -> None:
        if self.functions:  # at module or class level a dropped name fails every import
            self.add(node, "drop", "pass")

    def visit_Expr(self, node: ast.Expr) -> None:
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return
        if not _is_logger_call(node.value):
            self.drop(node)
            self.visit(node.value)

    def visit_Assign(self, node: ast.Assign) -> None:
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            return
        self.drop(node)
        self.visit(node.value)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.drop(node)
        self.visit(node.value)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)

    def visit_Raise(self, node: ast.Raise) -> None:
        self.drop(node)

    def visit_Delete(self, node: ast.Delete) -> None:
        self.drop(node)

    def visit_Return(self, node: ast.Return) -> None:
        if node.value is None:
            return
        if not (isinstance(node.value, ast.Constant) and node.value.value is None):
            self.add(node, "return", "return None")
        self.visit(node.value)

    def visit_Break(self, node: ast.Break) -> None:
        self.add(node, "loop", "continue")

    def visit_Continue(self, node: ast.Continue) -> None:
        self.add(node, "loop", "break")

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            return
        self.negate(node.test)
        self.visit(node.test)
        self.visit_body(node.body)
        self.visit_body(node.orelse)

    def visit_While(self, node: ast.While) -> None:
        self.negate(node.test)
        self.generic_visit(node)

    def visit_Assert(self, node: ast.Assert) -> None:
        self.negate(node.test)
        self.visit(node.test)

    def visit_Import(self, node: ast.Import) -> None:
        return

    visit_ImportFrom = visit_Import

    # ------------------------------------------------------------------ expressions

    def negate(self, test: ast.expr) -> None:
        self.add_expr(test, "negate", ast.UnaryOp(ast.Not(), test))

    def visit_IfExp(self, node: ast.IfExp) -> None:
        self.negate(node.test)
        self.generic_visit(node)

    def visit_comprehension(self, node: ast.comprehension) -> None:
        for condition in node.ifs:
            self.negate(condition)
        self.generic_visit(node)

    def visit_Compare(self, node: ast.Compare) -> None:
        for i, op in enumerate(node.ops):
            flipped = FLIPS.get(type(op))
            if flipped is not None:
                ops = list(node.ops)
                ops[i] = flipped()
                self.add_expr(node, "cmp", ast.Compare(node.left, ops, node.comparators))
        self.generic_visit(node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        if isinstance(node.op, ast.Not):
            self.add_expr(node, "not", node.operand)
        self.generic_visit(node)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        other = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        self.add_expr(node, "boolop", ast.BoolOp(other, node.values))
        self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        swap = {ast.Add: ast.Sub, ast.Sub: ast.Add}.get(type(node.op))
        if swap is not None:
            self.add_expr(node, "arith", ast.BinOp(node.left, swap(), node.right))
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, bool):
            self.add(node, "bool", repr(not value))
        elif isinstance(value, int):
            for other in (value + 1, value - 1):
                self.add(node, "number", f"({other})" if other < 0 else str(other))

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        return

    def visit_arg(self, node: ast.arg) -> None:
        return


def _is_docstring(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _is_logger_call(value: ast.expr) -> bool:
    if not isinstance(value, ast.Call) or not isinstance(value.func, ast.Attribute):
        return False
    owner = value.func.value
    return isinstance(owner, ast.Name) and owner.id in LOGGERS


def _offsets(source: str) -> list[int]:
    """The offset of each line's first character (line numbers from 1)."""
    starts = [0, 0]
    for line in source.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    return starts


def _char_offset(source_lines: list[str], starts: list[int], line: int, col: int) -> int:
    """ast's column offsets count UTF-8 bytes; this is the character offset."""
    text = source_lines[line - 1].encode()[:col].decode()
    return starts[line] + len(text)


def _differs(original: str, replacement: str) -> bool:
    """Whether an expression's replacement is valid Python and another expression."""
    try:
        before = ast.dump(ast.parse(f"({original})", mode="eval"))
        after = ast.dump(ast.parse(replacement, mode="eval"))
    except SyntaxError:
        return False
    return before != after


def mutants_of(path: str, source: str) -> list[Mutant]:
    """Every mutant of one file, in source order; each compiles and differs."""
    tree = ast.parse(source)
    finder = _Finder(source)
    finder.visit(tree)
    starts = _offsets(source)
    lines = source.splitlines(keepends=True)
    seen: dict[str, int] = {}
    result: list[Mutant] = []
    for node, operator, replacement, where in finder.found:
        start = _char_offset(lines, starts, node.lineno, node.col_offset)
        end = _char_offset(lines, starts, node.end_lineno, node.end_col_offset)
        original = source[start:end]
        if isinstance(node, ast.expr) and not _differs(original, replacement):
            continue
        key = f"{path}\0{where}\0{operator}\0{original}\0{replacement}"
        seen[key] = seen.get(key, 0) + 1
        digest = hashlib.sha1(f"{key}\0{seen[key]}".encode()).hexdigest()[:10]
        result.append(
            Mutant(
                id=digest,
                path=path,
                line=node.lineno,
                end_line=node.end_lineno,
                operator=operator,
                where=where,
                start=start,
                end=end,
                original=original,
                replacement=replacement,
            )
        )
    return result
