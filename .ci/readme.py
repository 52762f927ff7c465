#!/usr/bin/env python3
"""README-as-test: every shell block of README.md runs as a user pasting it would, and the command lists of
README.md and docs/reference.md (and the latter's option list) are the ones `sipgate-oauth --help` prints.

Each ```sh block runs on its own with bash (-e, -o pipefail) in a fresh temp dir, the debug binary first on
PATH, and its own token store. Markers on the first line:
  # needs a real sipgate account   skipped (counted): cannot run offline
  # runs until Ctrl-C              skipped (counted): starts a server in the foreground
  # in a clone of this repository  runs in the repository instead of a temp dir
Prints one line per block and closes with "README.md: N passed, N failed, N skipped"; exit 1 on a failure.
`readme.py DOCUMENT` runs the shell blocks of another document the same way (.ci/docs: docs/any-language.md).
"""
import os, re, subprocess, sys, tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SKIP = ("# needs a real sipgate account", "# runs until Ctrl-C")
IN_REPO = "# in a clone of this repository"


def blocks(text):
    for match in re.finditer(r"^```(\w*)\n(.*?)^```$", text, re.S | re.M):
        yield match.group(1), match.group(2), text[: match.start()].count("\n") + 1


def part_of_help(binary, heading):
    """The lines under `heading` (e.g. "COMMANDS:") in `sipgate-oauth --help`, up to the blank line."""
    help_text = subprocess.run([binary, "--help"], capture_output=True, text=True, check=True).stdout
    start = help_text.index("\n", help_text.index("\n" + heading) + 1) + 1
    return help_text[start : help_text.index("\n\n", start)] + "\n"


def copies_of_help(binary):
    """(file, what, `--help`'s text): each list of `--help` that a document copies in a ```text block."""
    commands, options = part_of_help(binary, "COMMANDS:"), part_of_help(binary, "OPTIONS")
    return [("README.md", "command list", commands), ("docs/reference.md", "command list", commands),
            ("docs/reference.md", "option list", options)]


def main(document="README.md"):
    binary = os.path.join(REPO, "target", "debug", "sipgate-oauth")
    readme = open(os.path.join(REPO, document), encoding="utf-8").read()
    passed = failed = skipped = 0
    # The lists of `--help` are checked with the README; another document by its shell blocks alone.
    for name, what, wanted in copies_of_help(binary) if document == "README.md" else []:
        text = open(os.path.join(REPO, name), encoding="utf-8").read()
        if wanted in [body for lang, body, _ in blocks(text) if lang == "text"]:
            passed += 1
            print(f"ok    the {what} in {name} is `--help`'s")
        else:
            failed += 1
            print(f"FAIL  the {what} in {name} differs from `sipgate-oauth --help` (copy that part of it)")
    for lang, body, line in blocks(readme):
        if lang not in ("sh", "bash", "shell"):
            continue
        first = body.splitlines()[0] if body else ""
        if first.startswith(SKIP):
            skipped += 1
            print(f"skip  {document} block at line {line}: {first}")
            continue
        with tempfile.TemporaryDirectory() as home:
            env = dict(os.environ)
            real_home = os.path.expanduser("~")
            env.setdefault("RUSTUP_HOME", os.path.join(real_home, ".rustup"))
            env.setdefault("CARGO_HOME", os.path.join(real_home, ".cargo"))
            env["PATH"] = os.path.join(home, "bin") + os.pathsep + os.path.dirname(binary) + os.pathsep + env["PATH"]
            env["HOME"] = home
            env["XDG_CONFIG_HOME"] = os.path.join(home, "config")
            env["CARGO_INSTALL_ROOT"] = home
            env["CARGO_TARGET_DIR"] = os.path.join(REPO, "target")
            env.pop("SIPGATE_OAUTH_STORE", None)
            cwd = REPO if first.startswith(IN_REPO) else home
            try:
                run = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", body], cwd=cwd, env=env,
                                     stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=1200)
                ok, out = run.returncode == 0, run.stdout + run.stderr
            except subprocess.TimeoutExpired as e:
                ok, out = False, f"timed out after {e.timeout} s"
        if ok:
            passed += 1
            print(f"ok    {document} block at line {line}")
        else:
            failed += 1
            print(f"FAIL  {document} block at line {line}:\n{body}--- its output:\n{out[-4000:]}")
    print(f"{document}: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:2]))
