"""The failures of the property-based tester that are sipgate's description's own, not the stand-in's.

Each rule names one schemathesis check and failure code, and a condition on the operation (read from
the description itself, never a hand-made list of operations) and on the exchange. A failure that no
rule covers fails the CI stage. A rule must be narrow: it may not cover a stand-in defect of its class
(e.g. the 400 rule covers only negative data, so a valid request refused with 400 still fails through
positive_data_acceptance). The rules are listed, with their reasons, in docs/stand-in.md.

A failure is a dict: label ("POST /sessions/sms"), check, code (ST103, …), status (received),
content_type (received, or ""), body_empty (the answer had no content), mode ("positive" or
"negative"), sent (the request body, or None), op (the operation of swagger.json).
"""


def documented(op):
    """The statuses the operation documents, as numbers (Swagger's `default` left out)."""
    return {int(status) for status in op.get("responses", {}) if status.isdigit()}


def body_schema(op):
    """The schema of the operation's body parameter, or None."""
    for param in op.get("parameters", []):
        if param.get("in") == "body":
            return param.get("schema", {})
    return None


def scopes(op):
    return [scope for requirement in op.get("security", []) for scope in requirement.get("oauth2", [])]


def sms_from_elsewhere(f):
    """A valid SMS request refused because its `smsId` is not the account's SMS extension."""
    sent = f["sent"]
    return (f["op"].get("operationId") == "sendWebSms" and f["status"] == 400 and isinstance(sent, dict)
            and sent.get("smsId") != "s0")


def webhook_url_refused(f):
    """A valid sipgate.io settings request refused because a webhook URL is no http(s) address."""
    sent = f["sent"]
    if f["op"].get("operationId") not in ("setSipgateIoUrls", "setSipgateIoSettings") or f["status"] != 400:
        return False
    urls = [sent.get(name) for name in ("incomingUrl", "outgoingUrl")] if isinstance(sent, dict) else []
    return any(isinstance(url, str) and url and not url.startswith(("http://", "https://")) for url in urls)


ALLOWLIST = [
    {
        "name": "no-2xx-documented",
        "check": "status_code_conformance",
        "code": "ST103",
        "when": lambda f: 200 <= f["status"] < 300 and not any(200 <= s < 300 for s in documented(f["op"])),
        "reason": "The operation documents error statuses only, no success at all. The stand-in answers "
                  "its success as 204 without a body (what sipgate sends for these), which the tester "
                  "calls undocumented.",
    },
    {
        "name": "undocumented-400-for-negative-data",
        "check": "status_code_conformance",
        "code": "ST103",
        "when": lambda f: f["status"] == 400 and f["mode"] == "negative" and 400 not in documented(f["op"]),
        "reason": "Invalid data must be rejected (negative_data_rejection), and 400 is the honest status "
                  "for it, but the description documents no 400 for this operation. Only negative data: "
                  "a valid request answered 400 still fails (positive_data_acceptance).",
    },
    {
        "name": "204-has-no-content-type",
        "check": "content_type_conformance",
        "code": "ST104",
        "when": lambda f: f["status"] == 204 and f["body_empty"],
        "reason": "A 204 answer has no content (RFC 9110 §15.3.5), so it has no Content-Type; the tester "
                  "judges it by the operation's `produces`.",
    },
    {
        "name": "internal-only-operation",
        "check": "status_code_conformance",
        "code": "ST103",
        "when": lambda f: f["status"] == 403 and scopes(f["op"]) == ["internal"],
        "reason": "sipgate lists the operation under the `internal` scope only, which it gives to no "
                  "third-party client: `all` does not open it, so the tester's `all` token gets 403 "
                  "(naming `internal`), a status the description does not document for it.",
    },
    {
        "name": "internal-only-operation-403-body",
        "check": "content_type_conformance",
        "code": "ST105",
        "when": lambda f: f["status"] == 403 and scopes(f["op"]) == ["internal"],
        "reason": "The same 403 as `internal-only-operation`: its body is the plain-text `Forbidden` of "
                  "every 403 of the API gate, a status the description documents no body for.",
    },
    {
        "name": "body-schema-without-type-object",
        "check": "positive_data_acceptance",
        "code": "ST202",
        "when": lambda f: body_schema(f["op"]) is not None and "type" not in body_schema(f["op"])
        and "$ref" not in body_schema(f["op"]) and not isinstance(f["sent"], dict),
        "reason": "The body schema names properties and required fields but no `type: object`, so the "
                  "tester counts null, lists and strings as valid bodies. The stand-in, like sipgate, "
                  "takes an object there; an object with a wrong field still fails.",
    },
    {
        "name": "body-schema-without-type-object-status",
        "check": "status_code_conformance",
        "code": "ST103",
        "when": lambda f: f["status"] == 400 and 400 not in documented(f["op"]) and body_schema(f["op"]) is not None
        and "type" not in body_schema(f["op"]) and "$ref" not in body_schema(f["op"]) and not isinstance(f["sent"], dict),
        "reason": "The same bodies as `body-schema-without-type-object`: a body that is no object is "
                  "refused with 400, which the description does not document for the operation.",
    },
    {
        "name": "sms-from-an-sms-extension-of-the-account",
        "check": "positive_data_acceptance",
        "code": "ST202",
        "when": lambda f: sms_from_elsewhere(f),
        "reason": "A business rule the schema cannot say: an SMS goes out from one of the account's SMS "
                  "extensions (the stand-in's account has `s0`). Another `smsId` is refused with 400, "
                  "naming the field.",
    },
    {
        "name": "sms-from-an-sms-extension-of-the-account-status",
        "check": "status_code_conformance",
        "code": "ST103",
        "when": lambda f: sms_from_elsewhere(f) and 400 not in documented(f["op"]),
        "reason": "The same refusal as `sms-from-an-sms-extension-of-the-account`: the description "
                  "documents no 400 for sending an SMS.",
    },
    {
        "name": "sipgateio-urls-are-web-addresses",
        "check": "positive_data_acceptance",
        "code": "ST202",
        "when": lambda f: webhook_url_refused(f),
        "reason": "A business rule the schema cannot say: sipgate.io posts its webhooks to the URLs, so "
                  "each is empty or an http(s) address (the stand-in pushes simulated calls there). "
                  "Another string is refused with 400, naming the field.",
    },
    {
        "name": "sipgateio-urls-are-web-addresses-status",
        "check": "status_code_conformance",
        "code": "ST103",
        "when": lambda f: webhook_url_refused(f) and 400 not in documented(f["op"]),
        "reason": "The same refusal as `sipgateio-urls-are-web-addresses`: the description documents no "
                  "400 for setting the URLs.",
    },
    {
        "name": "export-errors-are-json",
        "check": "content_type_conformance",
        "code": "ST105",
        "when": lambda f: f["label"] == "GET /history/export" and 400 <= f["status"] < 500
        and f["content_type"].startswith("application/json"),
        "reason": "The export's `produces` is the CSV file's media type only; its error answers (a bad "
                  "query, 400) are JSON like every other error of the API.",
    },
]
