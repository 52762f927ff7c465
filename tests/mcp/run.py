#!/usr/bin/env python3
"""`sipgate-oauth mcp` driven by MCP clients we did not write: the official Python SDK (`mcp`) as a
stdio client, in both eras (the 2026-07-28 discover probe and the legacy initialize handshake), and the
MCP Inspector's CLI mode.

Everything runs offline: the script starts the stand-in (`sipgate-oauth mock --port 0 --auto-approve`),
signs profiles in with `login` (the BROWSER is browse.py, an HTTP client that follows the stand-in's
redirect to the callback), then points the clients at `sipgate-oauth --profile NAME mcp`.

Usage (from .ci/mcp, which installs the SDK and the Inspector):
    run.py BINARY INSPECTOR
Prints one line per check and ends with `N passed, M failed`; exits 1 if any check failed.
"""

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile

from mcp import Client, StdioServerParameters

BINARY, INSPECTOR = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
HERE = os.path.dirname(os.path.abspath(__file__))
STORE = tempfile.mkdtemp(prefix="sipgate-oauth-mcp-")
RESULTS = {"passed": 0, "failed": 0}
SMS = {"body": {"smsId": "s0", "recipient": "+4915790000000", "message": "sent by an MCP client"}}


def check(what, ok, detail=""):
    RESULTS["passed" if ok else "failed"] += 1
    print(f"{'ok  ' if ok else 'FAIL'} {what}" + (f" — {detail}" if detail and not ok else ""), flush=True)


def start_stand_in():
    """The stand-in on a free port; its .env lines, read from its stdout as it prints them."""
    mock = subprocess.Popen([BINARY, "mock", "--port", "0", "--auto-approve", "--quiet"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True)
    env = {}
    while "REDIRECT_URI" not in env:
        line = mock.stdout.readline()
        if not line:
            raise SystemExit("the stand-in ended before it printed its configuration")
        if "=" in line:
            key, _, value = line.strip().partition("=")
            env[key] = value
    env["REDIRECT_URI"] = "http://127.0.0.1:0/oauth"
    return mock, env


def base_env():
    """What every run of the binary gets: the store, and no proxy, .env or profile of the machine's."""
    env = {key: value for key, value in os.environ.items()
           if not key.upper().endswith("_PROXY") and not key.startswith("SIPGATE_OAUTH")}
    env["SIPGATE_OAUTH_STORE"] = STORE
    return env


def login(stand_in, profile, scope):
    env = {**base_env(), **stand_in, "OAUTH_SCOPE": scope, "BROWSER": os.path.join(HERE, "browse.py")}
    done = subprocess.run([BINARY, "--profile", profile, "login", "--timeout", "30"], env=env, cwd=STORE,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    if done.returncode != 0:
        raise SystemExit(f"login --profile {profile} failed: {done.stderr}")


def server(profile, *args, wrapper=None):
    """The server's parameters for the SDK; `wrapper` puts a shell command in front of its stdin."""
    command = [BINARY, "--profile", profile, "mcp", *args]
    if wrapper:
        command = ["sh", "-c", wrapper + ' | exec "$@"', "sh", *command]
    return StdioServerParameters(command=command[0], args=command[1:], env={"SIPGATE_OAUTH_STORE": STORE}, cwd=STORE)


def text(result):
    return "".join(block.text for block in result.content if getattr(block, "type", "") == "text")


async def all_tools(client):
    tools, cursor = [], None
    while True:
        page = await client.list_tools(cursor=cursor)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if cursor is None:
            return tools


async def sdk_reader(mode):
    async with Client(server("reader"), mode=mode, read_timeout_seconds=30) as client:
        version = client.protocol_version
        expected = "2026-07-28" if mode == "auto" else "2025-11-25"
        check(f"sdk {mode}: connected, protocol {version}, server {client.server_info.name if client.server_info else '?'}",
              version == expected, f"wanted {expected}")
        tools = await all_tools(client)
        names = [tool.name for tool in tools]
        print(f"     sdk {mode}: {len(names)} tools for account:read history:read: {', '.join(names)}")
        check(f"sdk {mode}: list_tools offers the reads the scopes allow, and no write",
              {"whoami", "get_account", "get_history", "get_history_by_id"} <= set(names)
              and not {"send_web_sms", "get_sms_extensions", "delete_history_entry"} & set(names), str(names))
        check(f"sdk {mode}: every tool is annotated read-only",
              all(tool.annotations and tool.annotations.read_only_hint for tool in tools))
        whoami = await client.call_tool("whoami", {})
        scopes = (whoami.structured_content or {}).get("scopes")
        check(f"sdk {mode}: call_tool whoami → {scopes}", not whoami.is_error and scopes == ["account:read", "history:read"],
              text(whoami))
        history = await client.call_tool("get_history", {"limit": 2, "types": ["CALL"]})
        items = (history.structured_content or {}).get("items", [])
        check(f"sdk {mode}: call_tool get_history limit=2 types=[CALL] → {len(items)} calls",
              not history.is_error and 0 < len(items) <= 2 and all(item["type"] == "CALL" for item in items),
              text(history))
        wrong = await client.call_tool("get_history", {"limit": "ten"})
        check(f"sdk {mode}: a wrong argument is a tool error naming it", wrong.is_error and "`limit`" in text(wrong),
              text(wrong))
        other_scope = await client.call_tool("get_sms_extensions", {})
        check(f"sdk {mode}: a tool of a scope not granted says which login adds it",
              other_scope.is_error and "sipgate-oauth login --profile reader" in text(other_scope), text(other_scope))


async def sdk_writes():
    async with Client(server("writer"), mode="auto", read_timeout_seconds=30) as client:
        refused = await client.call_tool("send_web_sms", SMS)
        check("sdk: send_web_sms is refused without --allow-writes", refused.is_error and "--allow-writes" in text(refused),
              text(refused))
        before = await client.call_tool("get_history", {"types": ["SMS"], "directions": ["OUTGOING"]})
    async with Client(server("writer", "--allow-writes"), mode="auto", read_timeout_seconds=30) as client:
        names = [tool.name for tool in await all_tools(client)]
        check("sdk --allow-writes: send_web_sms is listed", "send_web_sms" in names, str(names))
        sent = await client.call_tool("send_web_sms", SMS)
        after = await client.call_tool("get_history", {"types": ["SMS"], "directions": ["OUTGOING"]})
        count = lambda result: (result.structured_content or {}).get("totalCount", -1)
        check(f"sdk --allow-writes: send_web_sms is done (outgoing SMS {count(before)} → {count(after)})",
              not sent.is_error and count(after) == count(before) + 1, text(sent))


async def sdk_forbidden():
    # The profile believes it has history:read; the stand-in, like sipgate, knows the token has not.
    path = os.path.join(STORE, "profiles", "stale.json")
    with open(path) as file:
        kept = json.load(file)
    kept["scope"] = "account:read history:read"
    with open(path, "w") as file:
        json.dump(kept, file)
    async with Client(server("stale"), mode="legacy", read_timeout_seconds=30) as client:
        result = await client.call_tool("get_history", {})
        said = text(result)
        check("sdk: sipgate's 403 is a tool error naming the scope and the login command",
              result.is_error and "HTTP 403" in said and "`history:read`" in said
              and "sipgate-oauth login --profile stale`" in said, said)


async def sdk_garbage():
    garbage = "printf '%s\\n' 'this is not JSON' '{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":' '[1,2]'; cat"
    async with Client(server("reader", wrapper=f"{{ {garbage}; }}"), mode="legacy", read_timeout_seconds=30) as client:
        whoami = await client.call_tool("whoami", {})
        check("sdk: garbage before the handshake is answered with errors, and the server goes on", not whoami.is_error,
              text(whoami))


def inspector(profile, *args):
    command = [INSPECTOR, "--cli", "-e", f"SIPGATE_OAUTH_STORE={STORE}", BINARY, "--profile", profile, "mcp", *args]
    done = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120, cwd=STORE)
    try:
        return done.returncode, json.loads(done.stdout), done.stderr
    except json.JSONDecodeError:
        return done.returncode, None, done.stdout + done.stderr


def inspector_checks():
    code, listed, said = inspector("reader", "--method", "tools/list", "--strict")
    names = [tool["name"] for tool in (listed or {}).get("tools", [])]
    print(f"     inspector: {len(names)} tools for account:read history:read")
    check("inspector --cli tools/list --strict: the tools, no schema portability problem",
          code == 0 and "get_history" in names and "send_web_sms" not in names, said)
    code, listed, said = inspector("writer", "--allow-writes", "--method", "tools/list", "--strict")
    names = [tool["name"] for tool in (listed or {}).get("tools", [])]
    print(f"     inspector --allow-writes: {len(names)} tools for history:read sessions:sms:write")
    check("inspector --cli tools/list --strict with --allow-writes (bodies' schemas too)",
          code == 0 and "send_web_sms" in names, said)
    code, listed, said = inspector("everything", "--allow-writes", "--method", "tools/list", "--strict")
    names = [tool["name"] for tool in (listed or {}).get("tools", [])]
    print(f"     inspector --allow-writes: {len(names)} tools for all")
    check("inspector --cli tools/list --strict: every tool of scope all, reads and writes, portable",
          code == 0 and len(names) > 100 and "send_web_sms" in names, said)
    code, result, said = inspector("reader", "--method", "tools/call", "--tool-name", "get_history",
                                   "--tool-arg", "limit=1", 'types=["CALL"]')
    items = ((result or {}).get("structuredContent") or {}).get("items", [])
    check("inspector --cli tools/call get_history limit=1 types=[CALL]",
          code == 0 and len(items) == 1 and items[0]["type"] == "CALL", said)


async def main():
    mock, stand_in = start_stand_in()
    try:
        login(stand_in, "reader", "account:read history:read")
        login(stand_in, "writer", "history:read sessions:sms:write")
        login(stand_in, "stale", "account:read")
        login(stand_in, "everything", "all")
        for mode in ("auto", "legacy"):
            await sdk_reader(mode)
        await sdk_writes()
        await sdk_forbidden()
        await sdk_garbage()
        inspector_checks()
    finally:
        mock.terminate()
        mock.wait()
        shutil.rmtree(STORE, ignore_errors=True)
    print(f"mcp clients: {RESULTS['passed']} passed, {RESULTS['failed']} failed")
    sys.exit(1 if RESULTS["failed"] else 0)


asyncio.run(main())
