"""What Stripe accepts, as stripe-python itself describes it: the checker every Stripe
stand-in (localstripe's wrapper, the current-API server, the report's list server) runs on
each request before answering it (SPEC §5c).

Nothing here is a hand-written list of parameters. The routes come from stripe-python's
service classes (`stripe/_*_service.py`: the HTTP method and path each method requests,
the `...Params` TypedDict it takes, the resource it returns); the parameters a route takes
come from that TypedDict (`stripe/params/`, nested TypedDicts followed, `Literal` values
checked); what can be expanded comes from the resource classes (`stripe/_subscription.py`
...): a field typed `ExpandableField[...]` (stripe-python's `Union[str, T]`), followed
through nested objects and lists, at most four levels deep (Stripe's limit).

One thing stripe-python does not say: which fields are *includable* (not in the response
unless expanded, though they are not `ExpandableField`s). Stripe's API reference says it
field by field ("This field is not included by default. To include it in the response,
expand the `tiers` field."); `INCLUDABLE` holds the ones billingops expands, and the tests
check that each is a field of its class in stripe-python.

`check(method, path, params)` returns the violations (empty when Stripe would accept the
request); `error_body(violations)` is the 400 `invalid_request_error` Stripe answers.
Only the stand-ins import this module (and with it `stripe`).
"""

from __future__ import annotations

import functools
import importlib
import re
import sys
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from typing_extensions import is_typeddict

# Stripe: "Expansions have a maximum depth of four levels."
MAX_EXPAND_DEPTH = 4

# (resource class name, field): expandable per Stripe's API reference, not ExpandableFields.
INCLUDABLE = frozenset(
    {
        ("Price", "tiers"),
        ("Price", "currency_options"),
        ("Charge", "refunds"),
        ("Invoice", "payments"),
    }
)

_REQUEST = re.compile(
    r"\n    def (?P<name>[a-z_]+)\(\n(?P<sig>.*?)\) -> \"(?P<ret>[^\"]+)\":.*?"
    r"self\._request\(\s*\"(?P<method>get|post|delete)\",\s*\"(?P<path>/v1/[^\"]+)\"",
    re.S,
)
_PARAMS = re.compile(r"params: (?:Optional\[)?\"(?P<params>\w+)\"")
_IMPORT = re.compile(r"from (stripe[\w.]*) import \(?\s*([\w,\s]+?)\s*\)?\n")
_PLACEHOLDER = re.compile(r"\{\w+\}")


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    pattern: re.Pattern[str]
    params: type | None  # the ...Params TypedDict
    resource: type | None  # what it returns (the element type for lists)
    listing: bool  # a list or search result: expansions start at `data.`


def _module_names(source: str) -> dict[str, str]:
    names: dict[str, str] = {}
    for module, listed in _IMPORT.findall(source):
        for name in re.split(r"[,\s]+", listed.strip()):
            if name:
                names[name] = module
    return names


def _load(name: str, modules: Mapping[str, str]) -> type | None:
    module = modules.get(name)
    if module is None:
        return None
    try:
        found = getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None
    return found if isinstance(found, type) else None


def _routes() -> list[Route]:
    import stripe

    root = Path(stripe.__file__).parent
    routes: list[Route] = []
    files = sorted(root.glob("_*_service.py")) + sorted(root.glob("*/_*_service.py"))
    for file in files:
        if file.parent.name in ("v2", "params"):
            continue
        source = file.read_text(encoding="utf-8")
        modules = _module_names(source)
        for m in _REQUEST.finditer(source):
            if m["name"].endswith("_async"):
                continue
            params = _PARAMS.search(m["sig"])
            ret = m["ret"]
            listing = ret.startswith(("ListObject[", "SearchResultObject["))
            element = ret.split("[", 1)[1].rstrip("]") if listing else ret
            template = m["path"]
            regex = "^" + _PLACEHOLDER.sub("[^/]+", re.escape(template).replace(r"\{", "{")
                                           .replace(r"\}", "}")) + "$"  # fmt: skip
            routes.append(
                Route(
                    method=m["method"].upper(),
                    template=template,
                    pattern=re.compile(regex),
                    params=_load(params["params"], modules) if params else None,
                    resource=_load(element, modules),
                    listing=listing,
                )
            )
    # A literal segment wins over a placeholder (`/v1/customers/search` is not a customer).
    routes.sort(key=lambda r: (len(_PLACEHOLDER.findall(r.template)), r.template))
    return routes


@functools.lru_cache(maxsize=1)
def routes() -> tuple[Route, ...]:
    return tuple(_routes())


def route_for(method: str, path: str) -> Route | None:
    for route in routes():
        if route.method == method.upper() and route.pattern.match(path):
            return route
    return None


# -- types ----------------------------------------------------------------------------------


def _resolve(ann: Any, owner: Any) -> Any:
    """A forward reference (a string or `ForwardRef`) evaluated where `owner` was defined."""
    if isinstance(ann, typing.ForwardRef):
        ann = ann.__forward_arg__
    if not isinstance(ann, str):
        return ann
    import stripe
    import stripe.params

    namespace: dict[str, Any] = {}
    namespace.update(vars(typing))
    namespace.update(vars(stripe))
    namespace.update(vars(stripe.params))
    module = sys.modules.get(getattr(owner, "__module__", ""), None)
    if module is not None:
        namespace.update(vars(module))
    try:
        return eval(ann, namespace)
    except Exception:
        # A resource named only under TYPE_CHECKING: find it by name in stripe's modules.
        for candidate in (stripe, stripe.billing_portal):
            found = getattr(candidate, ann.strip("'\""), None)
            if isinstance(found, type):
                return found
        return None


def _strip(ann: Any, owner: Any) -> list[Any]:
    """The alternatives of an annotation, without None, NotRequired, Optional, forward refs."""
    ann = _resolve(ann, owner)
    origin = typing.get_origin(ann)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        out: list[Any] = []
        for arg in typing.get_args(ann):
            out += _strip(arg, owner)
        return out
    if origin is not None and getattr(origin, "_name", "") in ("NotRequired", "Required"):
        return _strip(typing.get_args(ann)[0], owner)
    name = getattr(origin, "_name", None) or getattr(ann, "_name", None)
    if name in ("NotRequired", "Required"):
        return _strip(typing.get_args(ann)[0], owner)
    if ann is type(None) or ann is None:
        return []
    return [ann]


def _annotations(cls: type) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for base in reversed(cls.__mro__):
        out.update(getattr(base, "__annotations__", {}))
    return out


def _check_value(value: Any, ann: Any, owner: Any, where: str, out: list[str]) -> None:
    options = _strip(ann, owner)
    if not options:
        return
    problems: list[list[str]] = []
    for option in options:
        found: list[str] = []
        if _fits(value, option, owner, where, found):
            if not found:
                return
            problems.append(found)
    if problems:
        problems.sort(key=len)
        out += problems[0]
    else:
        out.append(f"Invalid value for {where}: {_show(value)}")


def _show(value: Any) -> str:
    return repr(value)[:60]


def _fits(value: Any, option: Any, owner: Any, where: str, out: list[str]) -> bool:
    """Whether `value` can be of type `option` (form encoding: scalars are strings);
    unknown keys of a matching TypedDict go to `out`."""
    origin = typing.get_origin(option)
    if is_typeddict(option):
        if not isinstance(value, Mapping):
            return bool(value == "")  # `param=` empties an object on Stripe
        _check_dict(value, option, where, out)
        return True
    if origin is typing.Literal or getattr(origin, "_name", "") == "Literal":
        return str(value) in {str(a) for a in typing.get_args(option)}
    if origin in (list, typing.List):  # noqa: UP006 - as stripe-python writes it
        if not isinstance(value, list):
            return False
        (inner,) = typing.get_args(option) or (Any,)
        for i, item in enumerate(value):
            _check_value(item, inner, owner, f"{where}[{i}]", out)
        return True
    if origin in (dict, typing.Dict):  # noqa: UP006
        return isinstance(value, Mapping) or value == ""
    if option is bool:
        return str(value) in ("true", "false")
    if option is int:
        return isinstance(value, str) and re.fullmatch(r"-?\d+", value) is not None
    if option is float:
        return isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value) is not None
    if option is str:
        return isinstance(value, str)
    return True  # a type this checker does not model: accepted


def _check_dict(params: Mapping[str, Any], cls: type, prefix: str, out: list[str]) -> None:
    fields = _annotations(cls)
    for key, value in params.items():
        where = f"{prefix}[{key}]" if prefix else key
        if key not in fields:
            out.append(f"Received unknown parameter: {where}")
            continue
        _check_value(value, fields[key], cls, where, out)


# -- expansions -----------------------------------------------------------------------------


def _expandable_target(cls: type, field: str) -> tuple[str, Any]:
    """How `field` of resource `cls` can be walked: ("expand", target class) for an
    ExpandableField or an includable field, ("nested", class) for a nested object or a
    list, ("none", None) for anything else (or no such field)."""
    fields = _annotations(cls)
    if field not in fields:
        return "none", None
    options = _strip(fields[field], cls)
    includable = (cls.__name__, field) in INCLUDABLE
    # List[ExpandableField[X]] (e.g. `discounts`): the list's element decides.
    if len(options) == 1 and typing.get_origin(options[0]) in (list, typing.List):  # noqa: UP006
        options = _strip(typing.get_args(options[0])[0], cls)
    has_str = str in options
    others = [o for o in options if o is not str]
    if has_str and others:
        # ExpandableField[X] (or of a union of resources, e.g. a customer's default_source)
        targets = [_resolve(o, cls) for o in others]
        if all(isinstance(t, type) and _is_stripe_object(t) for t in targets):
            return "expand", targets[0]
        return "none", None
    if len(others) == 1:
        target = others[0]
        origin = typing.get_origin(target)
        if origin is not None and getattr(origin, "__name__", "") in (
            "ListObject",
            "SearchResultObject",
        ):
            target = ("list", _resolve(typing.get_args(target)[0], cls))
        return ("expand" if includable else "nested"), target
    return ("expand" if includable else "none"), None


def _is_stripe_object(cls: type) -> bool:
    return any(getattr(base, "__name__", "") == "StripeObject" for base in cls.__mro__)


def check_expand(route: Route, expand: list[str]) -> list[str]:
    out: list[str] = []
    for raw in expand:
        path = str(raw)
        parts = path.split(".")
        if len(parts) > MAX_EXPAND_DEPTH:
            out.append(
                f"You cannot expand more than {MAX_EXPAND_DEPTH} levels of a property: {path}"
            )
            continue
        cls: Any = route.resource
        if route.listing:
            if parts[0] != "data" or len(parts) < 2:
                out.append(f"This property cannot be expanded ({path}).")
                continue
            parts = parts[1:]
        ok = cls is not None
        for i, part in enumerate(parts):
            if not ok:
                break
            if isinstance(cls, tuple):  # a list object: only `data` leads on
                if part != "data":
                    ok = False
                    break
                cls = cls[1]
                if i == len(parts) - 1:
                    ok = False
                continue
            how, target = _expandable_target(cls, part)
            last = i == len(parts) - 1
            if how == "none" or (last and how != "expand"):
                ok = False
                break
            cls = target
            if cls is None and not last:
                ok = False
        if not ok:
            out.append(f"This property cannot be expanded ({path}).")
    return out


# -- the check --------------------------------------------------------------------------------


def check(method: str, path: str, params: Mapping[str, Any]) -> list[str]:
    """Why Stripe would refuse this request (empty: it would accept it). `params` are the
    decoded form or query (`a[b]=c` → {"a": {"b": "c"}}, `a[0]=x` → {"a": ["x"]})."""
    route = route_for(method, path)
    if route is None:
        return [f"Unrecognized request URL ({method.upper()}: {path})."]
    out: list[str] = []
    if route.params is not None:
        _check_dict(params, route.params, "", out)
    elif params:
        out += [f"Received unknown parameter: {k}" for k in params]
    expand = params.get("expand")
    if isinstance(expand, list) and not out:
        out += check_expand(route, [str(e) for e in expand])
    return out


def error_body(violations: list[str]) -> dict[str, Any]:
    """Stripe's answer to a request it refuses before executing it (HTTP 400)."""
    return {
        "error": {
            "type": "invalid_request_error",
            "message": violations[0],
        }
    }
