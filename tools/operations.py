#!/usr/bin/env python3
"""Derives the operation table `src/operations.json` from sipgate's `swagger.json`.

The table is data only: for each operation its method, path template (relative to the API base
`/v2`), parameters, accepted scopes, request schema and response schemas, with the spec's `example`
values; the schema definitions they use; and the scope names. No descriptions or summaries are
copied: any text a user reads is written in the project's own words (see `src/operations.rs`).

Usage (from the repository root):
    python3 tools/operations.py [SWAGGER]          # writes src/operations.json
    python3 tools/operations.py --check [SWAGGER]  # exits 1 if the committed table differs

SWAGGER defaults to ../shared/sipgate-api/swagger.json. What the spec is and which facts of it the code relies
on: docs/sipgate.md, "The operation table".
"""

import json
import os
import sys

import schema_keywords

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SWAGGER = os.path.join(ROOT, "..", "shared", "sipgate-api", "swagger.json")
TABLE = os.path.join(ROOT, "src", "operations.json")
# The scopes, one a line: read without parsing the table, so that checking OAUTH_SCOPE costs nothing.
SCOPES = os.path.join(ROOT, "src", "scopes.txt")
METHODS = ("get", "post", "put", "delete", "patch")

# Schema keywords the stand-in and the client use (`src/mock/validate.rs` enforces each that constrains
# a value); `collectionFormat` says how a list travels in a query.
KEEP = ("type", "format", "enum", "items", "properties", "required", "example", "default", "minimum",
        "maximum", "minLength", "maxLength", "uniqueItems", "pattern", "minItems", "maxItems",
        "additionalProperties", "collectionFormat")
# Keywords that are text for people only, dropped. A keyword of the spec in neither list stops the
# generator: the validator must learn it first (tools/schema_keywords.py lists what the spec uses).
TEXT_ONLY = ("description", "title", "$ref")

# Path parameters the spec gives no `x-example` for get one from the stand-in's fake account, so that
# every operation can be called as it stands in the table. The stand-in knows these ids.
PATH_EXAMPLES = {
    "addressId": "123",
    "callId": "c0",
    "clientId": "sipgate-oauth-demo",
    "contactId": "b3d9af4a-78f9-11e6-8b77-86f30ca893d3",
    "extension": "e0",
    "id": "1",
    "nonce": "abc123",
    "numberId": "abc123",
    "phoneNumber": "+4921100000000",
    "portingId": "1",
}


def matches(value, kind):
    """Whether an `example` value has the JSON type the schema names."""
    return {
        "string": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, (int, float)) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
        "array": isinstance(value, list),
        "object": isinstance(value, dict),
    }.get(kind, True)


def compact(schema, refs, dropped):
    """The schema with only the kept keywords; `$ref` shortened to the definition's name."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        refs.add(name)
        return {"$ref": name}
    out = {}
    for key in KEEP:
        if key not in schema:
            continue
        value = schema[key]
        if key == "items" or (key == "additionalProperties" and isinstance(value, dict)):
            value = compact(value, refs, dropped)
        elif key == "properties":
            value = {name: compact(sub, refs, dropped) for name, sub in sorted(value.items())}
        elif key in ("example", "default") and not matches(value, schema.get("type")):
            dropped.append(value)
            continue
        out[key] = value
    return out


def parameter(param, refs, dropped):
    """One path, query or header parameter."""
    out = {"name": param["name"], "in": param["in"]}
    if param.get("required"):
        out["required"] = True
    out.update(compact(param, refs, dropped))
    example = param.get("x-example")
    if param["in"] == "path":
        integer = param.get("type") == "integer"
        if example is None or (integer and not str(example).isdigit()):
            example = PATH_EXAMPLES.get(param["name"])
        if example is not None:
            example = int(example) if integer else str(example)
    if example is not None and matches(example, param.get("type")):
        out["example"] = example
    return out


def table(swagger):
    """The compact table of `swagger`."""
    refs, dropped, ops = set(), [], []
    for path, item in swagger["paths"].items():
        for method in METHODS:
            if method not in item:
                continue
            op = item[method]
            entry = {"method": method.upper(), "path": path, "id": op["operationId"]}
            scopes = [scope for sec in op.get("security", []) for scope in sec.get("oauth2", [])]
            entry["scopes"] = scopes
            params = [parameter(p, refs, dropped) for p in op.get("parameters", []) if p["in"] != "body"]
            if params:
                entry["params"] = params
            for p in op.get("parameters", []):
                if p["in"] == "body":
                    entry["body"] = compact(p["schema"], refs, dropped)
                    if p.get("required"):
                        entry["bodyRequired"] = True
            responses = {}
            for status, response in op["responses"].items():
                responses[status] = compact(response["schema"], refs, dropped) if "schema" in response else None
            entry["responses"] = responses
            if op.get("deprecated"):
                entry["deprecated"] = True
            ops.append(entry)
    definitions = swagger["definitions"]
    defs, pending = {}, sorted(refs)
    while pending:
        name = pending.pop()
        if name in defs:
            continue
        found = set()
        defs[name] = compact(definitions[name], found, dropped)
        pending.extend(sorted(found - set(defs)))
    scopes = list(swagger["securityDefinitions"]["oauth2"]["scopes"])
    return {"scopes": scopes, "defs": dict(sorted(defs.items())), "ops": ops}, dropped


def render(data):
    """Compact JSON, one operation or definition per line so that diffs stay readable."""
    lines = ["{\"defs\":{"]
    defs = list(data["defs"].items())
    for n, (name, schema) in enumerate(defs):
        comma = "," if n + 1 < len(defs) else ""
        lines.append(json.dumps(name) + ":" + json.dumps(schema, separators=(",", ":"), ensure_ascii=False) + comma)
    lines.append("},")
    lines.append("\"ops\":[")
    for n, op in enumerate(data["ops"]):
        comma = "," if n + 1 < len(data["ops"]) else ""
        lines.append(json.dumps(op, separators=(",", ":"), ensure_ascii=False) + comma)
    lines.append("]}")
    return "\n".join(lines) + "\n"


def main(argv):
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    source = args[0] if args else DEFAULT_SWAGGER
    with open(source, encoding="utf-8") as f:
        swagger = json.load(f)
    unknown = sorted(set(schema_keywords.census(swagger).counts) - set(KEEP) - set(TEXT_ONLY))
    if unknown:
        print(f"the spec uses schema keywords the table does not carry: {', '.join(unknown)}", file=sys.stderr)
        return 1
    data, dropped = table(swagger)
    files = {TABLE: render(data), SCOPES: "".join(scope + "\n" for scope in data["scopes"])}
    text = files[TABLE]
    if check:
        for path, wanted in files.items():
            try:
                with open(path, encoding="utf-8") as f:
                    current = f.read()
            except FileNotFoundError:
                current = None
            if current != wanted:
                print(f"{os.path.relpath(path, ROOT)} is out of date: run python3 tools/operations.py", file=sys.stderr)
                return 1
        print(f"{os.path.relpath(TABLE, ROOT)} and {os.path.relpath(SCOPES, ROOT)} are up to date "
              f"({len(data['ops'])} operations, {len(data['scopes'])} scopes)")
        return 0
    for path, wanted in files.items():
        with open(path, "w", encoding="utf-8") as f:
            f.write(wanted)
    print(f"wrote {os.path.relpath(TABLE, ROOT)}: {len(data['ops'])} operations, {len(data['defs'])} definitions, "
          f"{len(text)} bytes; {len(dropped)} examples dropped for having the wrong type")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
