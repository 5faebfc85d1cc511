"""Option values without Typer's per-parameter Pydantic adapters, for start-up time.

Typer builds a Pydantic ``TypeAdapter`` for every option it processes, even one left at its
default; importing Pydantic and building those costs a cron run more than the sync itself
(~0.15 s here). The values dksync's options take (absent, a flag, a word, a path, a whole
number in a range, a list of words) need none of that: they are taken as they are here, and
anything else, including every value Typer would reject, goes to Typer's own coercion, so
its checks and its error messages stay the ones users see.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Any

_UNHANDLED = object()


def light(value: Any, annotation: Any, info: Any) -> Any:
    """``value`` as Typer would give it, or ``_UNHANDLED`` for Typer to decide."""
    if annotation is str and isinstance(value, str):
        return value
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return _member(value, annotation)
    if annotation is Path and isinstance(value, str) and value and _plain_path(info):
        return Path(value)
    if annotation is int and not isinstance(value, bool):
        return _whole(value, info)
    listed = annotation == list[str] and isinstance(value, list | tuple)
    if listed and all(isinstance(item, str) for item in value):
        return list(value)
    return _UNHANDLED


def _member(value: Any, annotation: type[enum.Enum]) -> Any:
    """A choice given by its value (``--log-format json``); Typer says what is wrong."""
    if isinstance(value, annotation):
        return value
    try:
        return annotation(value)
    except ValueError:
        return _UNHANDLED


def _plain_path(info: Any) -> bool:
    """A path option that asks Typer for no check and no rewriting."""
    checks = ("exists", "resolve_path", "allow_dash", "path_type")
    return not any(getattr(info, name, None) for name in checks)


def _whole(value: Any, info: Any) -> Any:
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        number = int(value)
    else:
        return _UNHANDLED
    if getattr(info, "clamp", False):
        return _UNHANDLED
    low, high = getattr(info, "min", None), getattr(info, "max", None)
    if (low is not None and number < low) or (high is not None and number > high):
        return _UNHANDLED
    return number


class LightCoercion:
    """Stands in for Typer's runtime coercion of one parameter; builds Typer's own only
    for a value it does not take as it is."""

    def __init__(self, param: Any) -> None:
        self._param = param
        self._typer: Any = None

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        if value is None:
            return () if param.multiple or param.nargs == -1 else None
        descriptor = param.type_descriptor
        taken = light(value, descriptor.annotation, descriptor.parameter_info)
        if taken is not _UNHANDLED:
            return taken
        return self._own().coerce(value, param=param, ctx=ctx)

    def _own(self) -> Any:
        if self._typer is None:
            from typer._coercion import build_runtime_param

            self._typer = build_runtime_param(self._param.type_descriptor)
        return self._typer


def install(params: list[Any]) -> None:
    """Give each Typer parameter the light coercion (a Typer without per-parameter
    adapters has no ``_runtime_param`` and is left as it is)."""
    for param in params:
        if getattr(param, "_runtime_param", _UNHANDLED) is None:
            param._runtime_param = LightCoercion(param)
