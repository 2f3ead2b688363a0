"""The OpenAPI document: valid-looking 3.1, and it lists every route the app really serves."""

from __future__ import annotations

import re

import pytest

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


@pytest.fixture
def doc(api) -> dict:
    resp = api.get("/openapi.json")
    assert resp.status_code == 200 and resp.is_json
    return resp.get_json()


def app_routes(app) -> set[tuple[str, str]]:
    """(OpenAPI path, method) of every /api/v1 rule: <x> and <conv:x> become {x}; any(a, b) becomes a and b."""
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = rule.rule.removeprefix("/api/v1")
        choices = re.search(r"<any\(([^)]*)\):\w+>", path)
        variants = ([re.sub(r"<any\([^)]*\):\w+>", c.strip(), path) for c in choices.group(1).split(",")]
                    if choices else [path])
        for variant in variants:
            openapi_path = re.sub(r"<(?:[^:<>]+:)?(\w+)>", r"{\1}", variant)
            routes |= {(openapi_path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return routes


def doc_routes(doc: dict) -> set[tuple[str, str]]:
    return {(path, method) for path, item in doc["paths"].items() for method in item if method in HTTP_METHODS}


def test_the_document_is_openapi_3_1(doc):
    assert re.fullmatch(r"3\.1\.\d+", doc["openapi"])
    assert doc["info"]["title"] and doc["info"]["version"]
    assert doc["servers"] == [{"url": "/api/v1"}]
    assert doc["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    assert doc["paths"] and all(path.startswith("/") for path in doc["paths"])


def test_every_operation_has_responses_and_documents_its_errors(doc):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method not in HTTP_METHODS:
                continue
            codes = set(op["responses"])
            assert any(c.startswith("2") for c in codes), (path, method)
            if op.get("security") != []:
                assert {"401", "403"} <= codes, (path, method)
            if "requestBody" in op:
                assert {"400", "413", "422"} <= codes, (path, method)


def test_every_path_parameter_is_declared(doc):
    params = doc["components"]["parameters"]
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method not in HTTP_METHODS:
                continue
            declared = set()
            for p in item.get("parameters", []) + op.get("parameters", []):
                p = params[p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p
                if p["in"] == "path":
                    declared.add(p["name"])
            assert declared == set(re.findall(r"{(\w+)}", path)), (path, method, declared)


def test_every_reference_resolves(doc):
    refs = re.findall(r'"\$ref": "([^"]+)"', __import__("json").dumps(doc))
    assert refs
    for ref in refs:
        assert ref.startswith("#/")
        node = doc
        for part in ref[2:].split("/"):
            assert part in node, f"unresolved {ref}"
            node = node[part]


def test_the_public_endpoints_need_no_security(doc):
    for path in ("/status/{token}", "/wait-times"):
        assert doc["paths"][path]["get"]["security"] == []
    assert doc["paths"]["/offices/{office}/tickets"]["post"].get("security") != []


def test_the_ticket_schema_lists_the_contract_fields(doc):
    ticket = doc["components"]["schemas"]["Ticket"]
    assert set(ticket["required"]) >= {"id", "code", "office", "service", "state", "counter", "created_at",
                                       "called_at", "started_at", "finished_at", "position", "estimate",
                                       "status_url"}
    assert doc["components"]["schemas"]["Error"]["required"] == ["error"]
    for name in ("TicketIn", "TransferIn", "ServiceIn", "CounterIn", "CallTicketIn"):
        assert doc["components"]["schemas"][name]["type"] == "object"


def test_the_document_lists_every_api_route_of_the_app(app, doc):
    served, documented = app_routes(app), doc_routes(doc)
    assert served, "no /api/v1 routes found"
    assert served - documented == set(), "routes missing from the OpenAPI document"
    assert documented - served == set(), "the OpenAPI document lists routes the app does not serve"
