"""The OpenAPI 3.1 document of the API, built from the route table (so it lists every route served)."""

from __future__ import annotations

import re
from typing import Any

from .core import MAX_BODY, Route

PATH_PARAM = re.compile(r"\{([^}/:]+)")
ERROR = {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]}
ISSUES = {"type": "object", "properties": {
    "error": {"type": "string",
              "description": "\"invalid dialplan\" in the request's language (?lang=, Accept-Language)"},
    "issues": {"type": "array", "items": {"type": "object", "properties": {
        "path": {"type": "string"}, "message": {"type": "string"}, "line": {"type": ["integer", "null"]}}}}}}
DIALPLAN_BODY = {"description": "a campaign file (see GET /api/schema), YAML or JSON text", "required": True,
                 "content": {t: {"schema": {"type": "string"}} for t in
                             ("application/yaml", "application/x-yaml", "text/yaml", "application/json",
                              "text/plain")}}
SMS_INBOUND = {"post": {
    "summary": "An SMS to a short number (the SMS gateway's webhook: Bearer the node's --sms-token, not an "
               "API key)", "operationId": "sms_inbound",
    "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object", "properties": {
        "from": {"type": "string"}, "to": {"type": "string"}, "text": {"type": "string"},
        "message_id": {"type": "string"}}, "required": ["from", "to", "message_id"]}}}},
    "responses": {"200": {"description": "the replies", "content": {"application/json": {"schema": {
        "type": "object", "properties": {"session": {"type": "string"},
                                         "replies": {"type": "array", "items": {"type": "string"}},
                                         "ids": {"type": "array", "items": {"type": "string"}}}}}}}}}}
SMS_RECEIPT = {"post": {
    "summary": "The SMS gateway's delivery report of a message it was POSTed (Bearer the node's --sms-token)",
    "operationId": "sms_receipt",
    "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object", "properties": {
        "id": {"type": "string"}, "error": {"type": "string"},
        "state": {"enum": ["accepted", "delivered", "expired", "undeliverable", "rejected"]}},
        "required": ["id", "state"]}}}},
    "responses": {"200": {"description": "the message's state now", "content": {"application/json": {"schema": {
        "type": "object", "properties": {"id": {"type": "string"}, "state": {"type": "string"}}}}}},
        "404": {"description": "no message with that id was POSTed to the gateway"}}}}


def document(routes: list[Route]) -> dict[str, Any]:
    paths: dict[str, Any] = {"/api/sms/inbound": SMS_INBOUND, "/api/sms/receipts": SMS_RECEIPT}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {"title": "ivr business and operator API", "version": "1",
                 "description": "Roles: business (campaigns, versions, lifecycle, numbers, code pools, draws, "
                                "results, simulate, its call log), operator (call log, call detail, active calls, "
                                "exports), admin (everything, every tenant, tenants and keys; ?tenant= acts for a "
                                "tenant). Errors are JSON {\"error\": \"...\"}, the message in the request's "
                                "language (?lang=uk|ru|en, else Accept-Language, else English); request bodies are "
                                "limited to "
                                f"{MAX_BODY} bytes unless an endpoint says otherwise."},
        "components": {"securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
                       "schemas": {"Error": ERROR, "DialplanIssues": ISSUES}},
        "security": [{"apiKey": []}],
        "paths": paths,
    }


def _operation(route: Route) -> dict[str, Any]:
    roles = ", ".join((*route.roles, "admin")) if "admin" not in route.roles else "admin"
    op: dict[str, Any] = {
        "summary": route.summary, "operationId": route.name, "description": f"Roles: {roles}.",
        "responses": {
            str(route.status): {"description": "success",
                                "content": {route.media: {"schema": route.response}}} if route.status != 204
            else {"description": "done"},
            "401": _error("no valid API key"), "403": _error("the key's role may not use this endpoint"),
        },
    }
    params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
              for name in PATH_PARAM.findall(route.path)]
    params += [{"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
               for name in route.query]
    if params:
        op["parameters"] = params
    if route.body is not None:
        if route.body.get("dialplan"):
            op["requestBody"] = DIALPLAN_BODY
            op["responses"]["422"] = {"description": "invalid dialplan, every issue with its path and line",
                                      "content": {"application/json": {"schema": {"$ref":
                                                                                 "#/components/schemas/DialplanIssues"}}}}
        else:
            op["requestBody"] = {"required": True, "content": {"application/json": {"schema": route.body}}}
    if route.upload:
        op["requestBody"] = {"required": True, "description": f"at most {route.max_body} bytes",
                             "content": {media: {"schema": {"type": "string", "format": "binary"}}
                                         for media in route.upload}}
        op["responses"]["413"] = _error(f"body larger than {route.max_body} bytes")
        op["responses"]["415"] = _error("not one of the media types above")
    for status, why in route.errors:
        op["responses"][str(status)] = _error(why)
    if "{" in route.path:
        op["responses"]["404"] = _error("unknown, or another tenant's")
    return op


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
