#!/usr/bin/env python3
"""Checks the shape of src/: imports between modules point one way (no circle), and no file has more
than 450 lines of non-test code.

An import is any `crate::…`, `super::…` or `self::…` path in the non-test part of a file (in `use`
lines, brace groups expanded, and inline), and a `use child::…` of a module that declares `mod child`.
It names the deepest module of the path: `super::routes::Incoming` in src/mock/server.rs is an edge
mock::server → mock::routes, `super::MockConfig` an edge to mock (its mod.rs). `mod child;` itself is
no edge. The non-test part of a file is everything before `#[cfg(test)]` + `mod tests`.

The library (src/lib.rs) and the binary (src/main.rs with src/cli/) are two crates, checked apart.
Exits 1 and names every circle and every long file; prints nothing else on success unless -v.
Usage: tools/layers.py [-v] [SRC_DIR]   (default: src next to this script's parent)
"""

import os
import re
import sys

MAX_LINES = 450

# Files over the limit whose split is another issue's work, with that issue: reported, not failed.
PENDING: dict = {}

USE = re.compile(r"\b(?:pub(?:\([^)]*\))?\s+)?use\s+([^;]+);", re.S)
INLINE = re.compile(r"(?<![\w:])((?:crate|super|self)(?:::(?:super|\w+))+)")
MOD = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;", re.M)


def non_test_part(text):
    """The lines before `#[cfg(test)]` followed by `mod tests`."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.strip() == "#[cfg(test)]":
            following = next((l.strip() for l in lines[i + 1 :] if l.strip()), "")
            if re.match(r"(pub(\([^)]*\))?\s+)?mod tests\b", following):
                return lines[:i]
    return lines


TOKENS = re.compile(
    r'//[^\n]*|/\*.*?\*/|\br(#*)".*?"\1|b?"(?:\\.|[^"\\])*"|b?\'(?:\\.|[^\'\\])\'', re.S
)


def strip_comments_and_strings(code):
    """Code without comments, with every string and char literal emptied (line breaks kept)."""
    return TOKENS.sub(lambda m: '""' + "\n" * m.group(0).count("\n") if m.group(0)[0] != "/" else "\n" * m.group(0).count("\n"), code)


def expand(tree):
    """`a::{b, c::{d, e}}` → ['a::b', 'a::c::d', 'a::c::e'] (the `as` renames dropped)."""
    tree = re.sub(r"\s+", "", tree)
    out = []

    def walk(prefix, text):
        depth, start, parts = 0, 0, []
        for i, ch in enumerate(text):
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            elif ch == "," and depth == 0:
                parts.append(text[start:i])
                start = i + 1
        parts.append(text[start:])
        for part in filter(None, parts):
            if "{" in part:
                head, _, rest = part.partition("{")
                walk(prefix + head, rest[: rest.rfind("}")])
            else:
                out.append(re.sub(r"as\w+$", "", prefix + part) if "as" in part else prefix + part)

    walk("", tree)
    return [re.sub(r"::$", "", path) for path in out]


def modules(src, root_file, extra=()):
    """Module name → file, for the crate rooted at `root_file` (relative to src)."""
    found = {"crate": os.path.join(src, root_file)}

    def visit(name, path, folder):
        text = open(path, encoding="utf-8").read()
        for child in MOD.findall("\n".join(non_test_part(text))):
            if child == "tests":
                continue
            for candidate in (os.path.join(folder, child + ".rs"), os.path.join(folder, child, "mod.rs")):
                if os.path.exists(candidate):
                    full = child if name == "crate" else f"{name}::{child}"
                    found[full] = candidate
                    sub = os.path.join(folder, child)
                    visit(full, candidate, sub)
                    break

    visit("crate", found["crate"], src)
    return found


def edges(mods):
    graph = {name: set() for name in mods}
    for name, path in mods.items():
        code = strip_comments_and_strings("\n".join(non_test_part(open(path, encoding="utf-8").read())))
        children = {m.split("::")[-1] for m in mods if m.rsplit("::", 1)[0] == name or ("::" not in m and name == "crate" and m != "crate")}
        paths = []
        for tree in USE.findall(code):
            paths += expand(tree)
        rest_of_code = USE.sub("", code)
        paths += INLINE.findall(rest_of_code)
        for child in children:
            paths += re.findall(rf"(?<![\w:])({child}(?:::\w+)+)", rest_of_code)
        for p in paths:
            segments = p.split("::")
            here = name.split("::") if name != "crate" else []
            if segments[0] == "crate":
                base, rest = [], segments[1:]
            elif segments[0] in ("super", "self"):
                base = list(here)
                while segments and segments[0] in ("super", "self"):
                    if segments.pop(0) == "super":
                        base = base[:-1]
                rest = segments
            elif segments[0] in children:
                base, rest = list(here), segments
            else:
                continue  # std, another crate, or a name in scope
            target = base
            for segment in rest:
                if "::".join(target + [segment]) in mods:
                    target = target + [segment]
                else:
                    break
            target = "::".join(target) or "crate"
            if target != name:
                graph[name].add(target)
    return graph


def circles(graph):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def connect(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            connect(v)
    return out


def main():
    args = [a for a in sys.argv[1:] if a != "-v"]
    verbose = "-v" in sys.argv[1:]
    src = args[0] if args else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
    problems = []
    for crate, root in (("library", "lib.rs"), ("binary", "main.rs")):
        if not os.path.exists(os.path.join(src, root)):
            continue
        mods = modules(src, root)
        graph = edges(mods)
        for component in circles(graph):
            inner = [f"{a} → {b}" for a in component for b in sorted(graph[a]) if b in component]
            problems.append(f"import circle in the {crate} between {', '.join(component)}: " + "; ".join(inner))
        if verbose:
            for name in sorted(graph):
                print(f"{crate}: {name} → {', '.join(sorted(graph[name])) or '-'}")
    for folder, _, files in os.walk(src):
        for file in sorted(files):
            if file.endswith(".rs"):
                path = os.path.join(folder, file)
                count = len(non_test_part(open(path, encoding="utf-8").read()))
                rel = os.path.relpath(path, os.path.join(src, ".."))
                if count > MAX_LINES and rel in PENDING:
                    print(f"note: {rel} has {count} non-test lines; {PENDING[rel]}", file=sys.stderr)
                elif count > MAX_LINES:
                    problems.append(f"{rel} has {count} non-test lines (at most {MAX_LINES}): it does two jobs, split it")
    for problem in problems:
        print(problem, file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
