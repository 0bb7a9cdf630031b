"""Bounded Jinja2 templates: a member's title and description templates run for every product,
in a worker pool that all organizations share, so each render is held to limits.

:class:`BoundedEnvironment` is Jinja2's sandbox plus

- **output size**: the text a render produces, and any string, list or number made on the way
  (``'A' * 30000000``, ``'x'.ljust(10**8)``, ``'%100000000s'|format(x)``, ``9 ** 9 ** 9``,
  doubling by ``~`` or ``+``), at most :data:`MAX_OUTPUT` characters;
- **loop iterations**: every ``for`` loop and every ``range`` counts against
  :data:`MAX_ITERATIONS` per render (two nested ``range(10000)`` loops stop at once);
- **render time**: :data:`MAX_SECONDS` per render, checked at each iteration, call, filter and
  piece of output.

Over a limit, rendering stops with :class:`TemplateLimit` (a ``jinja2.TemplateError``) whose
message says which limit. :func:`render` is the one way to render such a template.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import Any

from jinja2 import nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

MAX_OUTPUT = 100_000
MAX_ITERATIONS = 10_000
MAX_SECONDS = 0.5
#: The largest integer a template may make (an exponent or product beyond is refused).
MAX_INT = 10**18


class TemplateLimit(SecurityError):
    """A render went over one of the limits."""


class _Budget(threading.local):
    deadline: float = 0.0
    iterations: int = 0
    active: bool = False


_budget = _Budget()


def _tick(count: int = 1) -> None:
    if not _budget.active:
        return
    _budget.iterations += count
    if _budget.iterations > MAX_ITERATIONS:
        raise TemplateLimit(f"the template loops more than {MAX_ITERATIONS} times")
    if time.perf_counter() > _budget.deadline:
        raise TemplateLimit(f"the template takes longer than {MAX_SECONDS} s to render")


def _sized(value: Any) -> Any:
    if isinstance(value, str | bytes | list | tuple | dict) and len(value) > MAX_OUTPUT:
        raise TemplateLimit(f"the template makes a value longer than {MAX_OUTPUT} characters")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
        raise TemplateLimit("the template makes a number too large")
    return value


def _check_widths(args: Iterable[Any]) -> None:
    for a in args:
        if isinstance(a, int) and not isinstance(a, bool) and abs(a) > MAX_OUTPUT:
            raise TemplateLimit(f"the template asks for a width of {a}: at most {MAX_OUTPUT}")


_PRINTF = re.compile(r"%[-#0 +]*(\d*)(?:\.(\d+))?")
_FORMAT_SPEC = re.compile(r"\{[^{}]*:([^{}]*)\}")


def _check_format(spec: Any) -> None:
    """A printf or ``str.format`` string asking for a huge width or precision is refused."""
    if not isinstance(spec, str):
        return
    numbers = [n for m in _PRINTF.finditer(spec) for n in m.groups() if n]
    numbers += [n for m in _FORMAT_SPEC.finditer(spec) for n in re.findall(r"\d+", m.group(1))]
    if any(len(n) > 7 or int(n) > MAX_OUTPUT for n in numbers):
        raise TemplateLimit(f"the template formats wider than {MAX_OUTPUT} characters")


def _loop(iterable: Any) -> Iterator[Any]:
    for item in iterable:
        _tick()
        yield item


def _range(*args: int) -> range:
    r = range(*args)
    _tick(len(r))
    return r


#: Filters whose number arguments are widths or counts of what they make.
_WIDTH_FILTERS = frozenset({"center", "indent", "wordwrap", "batch", "slice"})
_WIDTH_METHODS = frozenset({"ljust", "rjust", "center", "zfill", "expandtabs"})


def _guard_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    skip = 2 if hasattr(func, "jinja_pass_arg") else 1  # the context, then the value

    def guarded(*args: Any, **kwargs: Any) -> Any:
        _tick(0)
        value, rest = (args[skip - 1] if len(args) >= skip else None), [*args[skip:], *kwargs.values()]
        if name in _WIDTH_FILTERS:
            _check_widths(rest)
        if name == "format":
            _check_format(value)
            _check_widths(rest)
        if name == "replace" and len(rest) >= 2:
            text, old, new = str(value), str(rest[0]), str(rest[1])
            count = (len(text) + 1) if old == "" else text.count(old)
            if len(text) + count * len(new) > MAX_OUTPUT:
                raise TemplateLimit(f"the template makes a value longer than {MAX_OUTPUT} characters")
        return _sized(func(*args, **kwargs))

    guarded.__name__ = getattr(func, "__name__", name)
    if hasattr(func, "jinja_pass_arg"):
        guarded.jinja_pass_arg = func.jinja_pass_arg  # type: ignore[attr-defined]
    return guarded


class BoundedEnvironment(SandboxedEnvironment):
    """Jinja2's sandbox with output, loop and time limits (see the module)."""

    intercepted_binops = frozenset({"*", "**", "+", "//", "%"})

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.globals["range"] = _range
        self.globals["_bridge_loop"] = _loop
        self.globals["_bridge_sized"] = _sized
        self.filters = {name: _guard_filter(name, f) for name, f in self.filters.items()}

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _tick(0)
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(n, int) and len(seq) * n > MAX_OUTPUT:
                    raise TemplateLimit(f"the template makes a value longer than {MAX_OUTPUT} characters")
        if operator == "**" and isinstance(right, int) and isinstance(left, int | float) \
                and abs(left) > 1 and right > 64:
            raise TemplateLimit("the template makes a number too large")
        if operator == "%" and isinstance(left, str):
            _check_format(left)
            _check_widths(right if isinstance(right, tuple) else [right])
        return _sized(super().call_binop(context, operator, left, right))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        _tick(0)
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            method = getattr(__obj, "__name__", "")
            if method in _WIDTH_METHODS:
                _check_widths([*args, *kwargs.values()])
            if method in ("format", "format_map"):
                _check_format(owner)  # '{:>99999999}'.format(...)
            if method == "replace" and len(args) >= 2:
                count = len(owner) + 1 if args[0] == "" else owner.count(str(args[0]))
                if len(owner) + count * len(str(args[1])) > MAX_OUTPUT:
                    raise TemplateLimit(f"the template makes a value longer than {MAX_OUTPUT} characters")
        return _sized(super().call(__context, __obj, *args, **kwargs))

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        """The template's tree with every loop's iterable counted and every ``~`` sized."""
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Call(nodes.Name("_bridge_loop", "load"), [loop.iter], [], None, None)
        for concat in list(tree.find_all(nodes.Concat)):
            _wrap(tree, concat)
        return tree


def _wrap(tree: nodes.Node, target: nodes.Node) -> None:
    """Replace ``target`` in its parent by ``_bridge_sized(target)``."""
    for parent in tree.find_all(nodes.Node):
        for field in parent.fields:
            value = getattr(parent, field, None)
            if value is target:
                setattr(parent, field, nodes.Call(nodes.Name("_bridge_sized", "load"), [target],
                                                  [], None, None))
                return
            if isinstance(value, list) and any(v is target for v in value):
                setattr(parent, field, [nodes.Call(nodes.Name("_bridge_sized", "load"), [v], [], None, None)
                                        if v is target else v for v in value])
                return


_env = BoundedEnvironment(autoescape=False, trim_blocks=True, lstrip_blocks=True)


@lru_cache(maxsize=256)
def _compiled(template: str) -> Any:
    return _env.from_string(template)


def render(template: str, **context: Any) -> str:
    """Render ``template`` within the limits. :raises jinja2.TemplateError: a syntax or
    sandbox error, or :class:`TemplateLimit`."""
    compiled = _compiled(template)
    _budget.deadline = time.perf_counter() + MAX_SECONDS
    _budget.iterations = 0
    _budget.active = True
    try:
        out: list[str] = []
        size = 0
        for chunk in compiled.generate(**context):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise TemplateLimit(f"the template's output is longer than {MAX_OUTPUT} characters")
            _tick(0)
            out.append(chunk)
        return "".join(out)
    finally:
        _budget.active = False
