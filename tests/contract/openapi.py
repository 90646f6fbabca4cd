"""FacturaAPI's published OpenAPI spec as a contract for what we send and what the emulator answers.

The spec does not load in strict validators (some `default`s have the wrong type) and its
`InvoiceCreateInput` is a `oneOf` that matches anything, so: load it as plain data, apply our
committed overlay (the few places where the real API differs from the spec), and validate a create
body against the branch its `type` selects.
"""

from __future__ import annotations

import copy
import os
import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from mexico_localization.facturapi import Exchange

ROOT = Path(__file__).resolve().parents[2]
OVERLAY = Path(__file__).with_name("overlay.yaml")
SPEC_URI = "urn:facturapi-openapi-v2"
CREATE_BRANCH = {"I": "InvoiceIngresoInput", "E": "InvoiceEgresoInput", "P": "InvoicePagoInput"}


def spec_path() -> Path:
    return Path(os.environ.get("FACTURAPI_OPENAPI_SPEC", ROOT.parent / "shared" / "facturapi-openapi-v2.en.yaml"))


def merge(base: Any, patch: Any) -> Any:
    """JSON merge patch (RFC 7386) with one addition: a key `$append` on a list value appends."""
    if isinstance(patch, dict) and isinstance(base, dict):
        out = dict(base)
        for key, value in patch.items():
            if value is None:
                out.pop(key, None)
            elif isinstance(value, dict) and "$append" in value and isinstance(out.get(key), list):
                out[key] = [*out[key], *value["$append"]]
            else:
                out[key] = merge(out.get(key), value)
        return out
    return copy.deepcopy(patch)


class _JsonLoader(yaml.SafeLoader):
    """YAML as JSON sees it: dates stay strings (the spec has examples like 2017-13-01)."""


_JsonLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@cache
def spec() -> dict[str, Any]:
    with open(spec_path(), encoding="utf-8") as handle:
        document = yaml.load(handle, Loader=_JsonLoader)  # noqa: S506 - a safe loader subclass
    with open(OVERLAY, encoding="utf-8") as handle:
        overlay = yaml.safe_load(handle) or {}
    return merge(document, overlay.get("patch") or {})


@cache
def _registry() -> Registry:
    return Registry().with_resource(SPEC_URI, Resource(contents=spec(), specification=DRAFT202012))


def validator(pointer: str) -> Draft202012Validator:
    """A validator for the schema at `pointer` (e.g. "/components/schemas/Invoice")."""
    return Draft202012Validator({"$ref": f"{SPEC_URI}#{pointer}"}, registry=_registry(),
                                format_checker=FormatChecker())


def problems(instance: Any, pointer: str) -> list[str]:
    return sorted(f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
                  for e in validator(pointer).iter_errors(instance))


def _escape(part: str) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


def _node(pointer: str) -> Any:
    node: Any = spec()
    for part in pointer.lstrip("/").split("/"):
        key = part.replace("~1", "/").replace("~0", "~")
        node = node[int(key)] if isinstance(node, list) else node[key]
    return node


def _follow(pointer: str) -> str:
    """The pointer of what `pointer` names once `$ref`s are followed."""
    while isinstance(_node(pointer), dict) and "$ref" in _node(pointer):
        pointer = _node(pointer)["$ref"].lstrip("#")
    return pointer


def operation(method: str, url_path: str) -> tuple[str, str]:
    """The spec's template and operation pointer for a concrete path (literal segments win)."""
    path = re.sub(r"^.*?/v2(?=/)", "", url_path.split("?")[0])
    candidates = []
    for template, item in spec()["paths"].items():
        pattern = "^" + re.sub(r"\{[^/]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path) and method.lower() in item:
            candidates.append((template.count("{"), template))
    if not candidates:
        raise AssertionError(f"{method} {path} is not in FacturaAPI's spec")
    _, template = min(candidates)
    return template, f"/paths/{_escape(template)}/{method.lower()}"


def request_problems(exchange: Exchange) -> list[str]:
    """What is wrong with the body we sent, by the spec (create bodies by their type's branch)."""
    template, op = operation(exchange.method, exchange.url)
    body = exchange.request_body
    if "requestBody" not in _node(op):
        return [] if body is None else [f"{template}: the spec takes no body"]
    request_body = _follow(op + "/requestBody")
    if body is None:
        return [f"{template}: the spec requires a body"] if _node(request_body).get("required") else []
    if template == "/invoices" and exchange.method == "POST":
        return problems(body, f"/components/schemas/{CREATE_BRANCH[body.get('type', 'I')]}")
    return problems(body, request_body + "/content/application~1json/schema")


def query_problems(exchange: Exchange) -> list[str]:
    """Query parameters the operation does not declare, or values its schema refuses. A deepObject
    parameter (`date[gte]`) is checked by its property."""
    template, op = operation(exchange.method, exchange.url)
    declared = {}
    for index, _param in enumerate(_node(op).get("parameters", [])):
        pointer = _follow(f"{op}/parameters/{index}")
        if _node(pointer).get("in") == "query":
            declared[_node(pointer)["name"]] = pointer + "/schema"
    found = []
    for name, values in parse_qs(urlsplit(exchange.url).query).items():
        base, _, prop = name.partition("[")
        if base not in declared:
            found.append(f"{template}: undeclared query parameter {name!r}")
            continue
        schema = _follow(declared[base])
        if prop:
            prop = prop.rstrip("]")
            if prop not in _node(_follow(schema)).get("properties", {}):
                found.append(f"{template}: {base} has no property {prop!r}")
                continue
            schema = _follow(schema) + f"/properties/{prop}"
        elif _node(schema).get("type") == "array":
            schema = schema + "/items"
        for value in values:
            coerced = int(value) if _node(_follow(schema)).get("type") == "integer" and value.isdigit() else value
            found += [f"{template}: {name}={value}: {p}" for p in problems(coerced, _follow(schema))]
    return found


def response_problems(exchange: Exchange) -> list[str]:
    """What is wrong with an answer, by the spec's response for its status code."""
    template, op = operation(exchange.method, exchange.url)
    responses = _node(op).get("responses", {})
    if str(exchange.status) not in responses:
        return [f"{exchange.method} {template} answered {exchange.status}, which the spec does not declare"]
    declared = _follow(f"{op}/responses/{exchange.status}")
    content = _node(declared).get("content")
    if not content:
        return []
    if "application/json" not in content:  # a binary download: the exchange recorded a size, not JSON
        ok = isinstance(exchange.response_body, dict) and exchange.response_body.get("bytes", 0) > 0
        return [] if ok else [f"{template}: expected binary content"]
    schema_pointer = declared + "/content/application~1json/schema"
    schema = _node(schema_pointer)
    mapping = schema.get("discriminator", {}).get("mapping") if isinstance(schema, dict) else None
    if mapping and "$ref" not in schema and "allOf" not in schema:  # status-discriminated, no branches
        key = (exchange.response_body or {}).get(schema["discriminator"]["propertyName"])
        schema_pointer = (mapping.get(key) or "#/components/schemas/Invoice").lstrip("#")
    return problems(exchange.response_body, schema_pointer)
