#!/usr/bin/env python3
"""Lists the JSON-schema keywords sipgate's `swagger.json` uses, and where: in request schemas (the
body and the path, query and header parameters, which the stand-in validates) and in response schemas.

For each keyword: how often it appears in a request and in a response position. Then every `format`
and every `pattern` with its count. This is the list `src/mock/validate.rs` answers for: each
keyword is either enforced there or named as an annotation that constrains nothing.

Usage (from the repository root):
    python3 tools/schema_keywords.py [SWAGGER]         # a readable table
    python3 tools/schema_keywords.py --json [SWAGGER]  # the same as JSON

SWAGGER defaults to ../shared/sipgate-api/swagger.json.
"""

import collections
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SWAGGER = os.path.join(ROOT, "..", "shared", "sipgate-api", "swagger.json")

# Keys of a Swagger 2.0 parameter object that are not schema keywords.
PARAMETER_KEYS = {"name", "in", "description", "required", "schema", "x-example"}
# Keywords whose value holds further schemas.
SUBSCHEMA = {"items", "additionalProperties"}
SUBSCHEMA_MAPS = {"properties"}
SUBSCHEMA_LISTS = {"allOf", "anyOf", "oneOf"}


class Census:
    """Keyword counts per position, formats and patterns."""

    def __init__(self, definitions):
        self.definitions = definitions
        self.counts = collections.defaultdict(collections.Counter)
        self.formats = collections.Counter()
        self.patterns = collections.Counter()
        self.seen = set()

    def schema(self, schema, where):
        """Counts one schema object and everything below it; a `$ref` is counted once per position."""
        if not isinstance(schema, dict):
            return
        for key, value in schema.items():
            self.counts[key][where] += 1
            if key == "format":
                self.formats[value] += 1
            elif key == "pattern":
                self.patterns[value] += 1
            elif key == "$ref":
                name = value.rsplit("/", 1)[-1]
                if (name, where) not in self.seen:
                    self.seen.add((name, where))
                    self.schema(self.definitions[name], where)
            elif key in SUBSCHEMA and isinstance(value, dict):
                self.schema(value, where)
            elif key in SUBSCHEMA_MAPS:
                for sub in value.values():
                    self.schema(sub, where)
            elif key in SUBSCHEMA_LISTS:
                for sub in value:
                    self.schema(sub, where)


def census(swagger):
    """The census of every operation's parameters, body and responses."""
    found = Census(swagger["definitions"])
    for item in swagger["paths"].values():
        for op in item.values():
            if not isinstance(op, dict):
                continue
            for param in op.get("parameters", []):
                if param["in"] == "body":
                    found.schema(param["schema"], "request")
                else:
                    keywords = {k: v for k, v in param.items() if k not in PARAMETER_KEYS}
                    found.schema(keywords, "request")
            for response in op.get("responses", {}).values():
                if "schema" in response:
                    found.schema(response["schema"], "response")
    return found


def main(argv):
    as_json = "--json" in argv
    args = [a for a in argv if a != "--json"]
    with open(args[0] if args else DEFAULT_SWAGGER, encoding="utf-8") as f:
        found = census(json.load(f))
    keywords = sorted(found.counts, key=lambda k: (-sum(found.counts[k].values()), k))
    if as_json:
        print(json.dumps({
            "keywords": {k: dict(found.counts[k]) for k in keywords},
            "formats": dict(found.formats),
            "patterns": dict(found.patterns),
        }, indent=1))
        return 0
    print(f"{'keyword':<22}{'request':>9}{'response':>10}")
    for key in keywords:
        print(f"{key:<22}{found.counts[key]['request']:>9}{found.counts[key]['response']:>10}")
    print("\nformats: " + ", ".join(f"{name} ({n})" for name, n in sorted(found.formats.items())))
    print("patterns:")
    for pattern, n in sorted(found.patterns.items()):
        print(f"  {pattern}  ({n})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
