#!/usr/bin/env python3
"""The property-based tester against the stand-in (run by .ci/schemathesis inside its venv).

Starts `sipgate-oauth mock` on a free port, signs in for a token of scope `all` (the stand-in
approves at once), and runs schemathesis over every operation of sipgate's description with a fixed
seed and a bounded number of examples, positive and negative data. Meanwhile a second client keeps
calling `GET /v2/account` with a token of its own: every one of its calls must be answered 200.
Afterwards the stand-in's log must hold no panic.

Every failure schemathesis reports must be matched by an entry of ALLOWLIST (.ci/schemathesis_allow.py),
each a failure that is the description's own, with its reason; any other failure fails the stage.

Usage: python .ci/schemathesis.py BINARY SWAGGER [--examples N] [--seed N]
"""

import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from schemathesis_allow import ALLOWLIST  # noqa: E402

CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
]
REDIRECT = "http://127.0.0.1:8080/oauth"


def start_stand_in(binary):
    """The running stand-in and its base URL, read from the .env lines it prints first."""
    process = subprocess.Popen(
        [binary, "mock", "--port", "0", "--auto-approve", "--access-ttl", "3600"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    for line in process.stdout:
        if line.startswith("TEST_API_ENDPOINT="):
            endpoint = urllib.parse.urlsplit(line.split("=", 1)[1].strip())
            return process, f"{endpoint.scheme}://{endpoint.netloc}"
    raise SystemExit(f"the stand-in did not start: {process.stderr.read()}")


def request(base, method, path, body=None, headers=None):
    """One request without following redirects: (status, headers, body)."""
    parts = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def token(base, scope):
    """An access token for `scope` through the auto-approved authorization-code flow."""
    oidc = "/auth/realms/third-party/protocol/openid-connect"
    query = urllib.parse.urlencode({
        "client_id": "sipgate-oauth-demo", "redirect_uri": REDIRECT, "response_type": "code", "scope": scope,
    })
    status, headers, _ = request(base, "GET", f"{oidc}/auth?{query}")
    location = urllib.parse.urlsplit(headers.get("Location", ""))
    code = urllib.parse.parse_qs(location.query).get("code", [None])[0]
    if status != 302 or code is None:
        raise SystemExit(f"the stand-in gave no code (status {status})")
    form = urllib.parse.urlencode({
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "client_id": "sipgate-oauth-demo", "client_secret": "demo-secret",
    })
    status, _, body = request(base, "POST", f"{oidc}/token", form,
                              {"Content-Type": "application/x-www-form-urlencoded"})
    if status != 200:
        raise SystemExit(f"the stand-in refused the code (status {status})")
    return json.loads(body)["access_token"]


class SecondClient(threading.Thread):
    """Calls GET /v2/account back to back until stopped; counts the answers and what was wrong."""

    def __init__(self, base, access_token):
        super().__init__(daemon=True)
        self.base, self.token = base, access_token
        self.stop = threading.Event()
        self.answered, self.wrong = 0, []

    def run(self):
        while not self.stop.is_set():
            try:
                status, _, _ = request(self.base, "GET", "/v2/account", headers={"Authorization": f"Bearer {self.token}"})
                if status != 200:
                    self.wrong.append(f"status {status}")
                self.answered += 1
            except OSError as error:
                self.wrong.append(f"{type(error).__name__}: {error}")
            # Pace the client by the server's answers only, never by a clock.


def operations(swagger):
    """The operations of the description by label ("GET /history")."""
    with open(swagger, encoding="utf-8") as f:
        paths = json.load(f)["paths"]
    return {f"{method.upper()} {path}": op for path, item in paths.items() for method, op in item.items()}


def outcomes(report, ops):
    """Per check, how often it ran and passed; and every failure as the dict the allowlist reads."""
    ran, found = {}, []
    with open(report, encoding="utf-8") as f:
        for line in f:
            finished = json.loads(line).get("ScenarioFinished")
            if not finished:
                continue
            recorder = finished["recorder"]
            label = recorder.get("label", "")
            for case_id, checks in recorder.get("checks", {}).items():
                case = recorder.get("cases", {}).get(case_id, {}).get("value", {})
                response = (recorder.get("interactions", {}).get(case_id) or {}).get("response") or {}
                headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
                content = response.get("content") or {}
                for check in checks:
                    counts = ran.setdefault(check["name"], [0, 0])
                    counts[0] += 1
                    if check.get("status") != "failure":
                        counts[1] += 1
                        continue
                    failure = (check.get("failure_info") or {}).get("failure") or {}
                    found.append({
                        "label": label,
                        "check": check["name"],
                        "code": failure.get("code", ""),
                        "title": failure.get("title", ""),
                        "status": response.get("status_code", 0),
                        "content_type": (headers.get("content-type") or [""])[0],
                        "body_empty": not (content.get("$base64") or content.get("string")),
                        "mode": ((case.get("meta") or {}).get("generation") or {}).get("mode", ""),
                        "sent": case.get("body"),
                        "op": ops.get(label, {}),
                    })
    return ran, found


def allowed(failure):
    """The allowlist rule that covers a failure, if any."""
    for rule in ALLOWLIST:
        if rule["check"] == failure["check"] and rule["code"] == failure["code"] and rule["when"](failure):
            return rule
    return None


def main(argv):
    binary, swagger = os.path.abspath(argv[0]), os.path.abspath(argv[1])
    examples = int(argv[argv.index("--examples") + 1]) if "--examples" in argv else 10
    seed = argv[argv.index("--seed") + 1] if "--seed" in argv else "22"
    stand_in, base = start_stand_in(binary)
    log_lines = []
    log_reader = threading.Thread(target=lambda: log_lines.extend(stand_in.stderr), daemon=True)
    log_reader.start()
    try:
        tester_token = token(base, "all")
        second = SecondClient(base, token(base, "account:read"))
        second.start()
        report_dir = tempfile.mkdtemp(prefix="schemathesis-")
        report = os.path.join(report_dir, "events.ndjson")
        command = [
            os.path.join(os.path.dirname(sys.executable), "schemathesis"), "run", swagger,
            "--url", f"{base}/v2",
            "--header", f"Authorization: Bearer {tester_token}",
            "--checks", ",".join(CHECKS),
            "--mode", "all",
            "--phases", "examples,coverage,fuzzing",
            "--seed", seed,
            "--max-examples", str(examples),
            "--workers", "2",
            "--continue-on-failure",
            "--request-timeout", "20",
            "--report", "ndjson", "--report-ndjson-path", report,
            "--output-sanitize", "true",
            "--suppress-health-check", "all",
        ]
        started = time.monotonic()
        # In a directory of its own: schemathesis keeps a cache of earlier failures in its working
        # directory and would replay them, so that runs differ.
        run = subprocess.run(command, cwd=report_dir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
        seconds = time.monotonic() - started
        second.stop.set()
        second.join(timeout=60)
        summary = [line for line in run.stdout.splitlines() if line.strip()]
        print("\n".join(summary[-40:]))
        print(f"schemathesis ran {seconds:.0f} s (exit {run.returncode})")
    finally:
        stand_in.terminate()
        stand_in.wait(timeout=30)
        log_reader.join(timeout=30)
    problems = []
    ran, found = outcomes(report, operations(swagger))
    by_rule = {}
    unexplained = []
    for failure in found:
        rule = allowed(failure)
        if rule:
            by_rule[rule["name"]] = by_rule.get(rule["name"], 0) + 1
        else:
            unexplained.append(failure)
    for check in CHECKS:
        total, passed = ran.get(check, [0, 0])
        failed = sum(1 for f in found if f["check"] == check)
        stand_in = sum(1 for f in unexplained if f["check"] == check)
        print(f"{check:<28} {total:>6} run, {passed:>6} passed, {failed - stand_in:>5} the description's, "
              f"{stand_in:>3} the stand-in's")
    for name, count in sorted(by_rule.items()):
        print(f"  allowlisted by {name}: {count}")
    for name in sorted({rule["name"] for rule in ALLOWLIST} - set(by_rule)):
        print(f"  allowlist rule {name} was not needed this run")
    if not ran:
        problems.append("the tester reported no checks at all")
    seen = set()
    for f in unexplained:
        key = (f["label"], f["check"], f["code"], f["status"], f["mode"])
        if key not in seen:
            seen.add(key)
            problems.append(f"stand-in failure: {f['label']}: {f['check']} {f['code']} {f['title']} "
                            f"(answered {f['status']} to {f['mode']} data)")
    if second.answered == 0 or second.wrong:
        problems.append(f"second client: {second.answered} answers, wrong: {second.wrong[:5]}")
    else:
        print(f"second client: {second.answered} calls of GET /v2/account answered 200 while the tester ran")
    panics = [line for line in log_lines if "panicked" in line]
    if panics:
        problems.append(f"the stand-in logged {len(panics)} panics, first: {panics[0].strip()}")
    if run.returncode not in (0, 1):
        problems.append(f"schemathesis ended with exit code {run.returncode}")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
