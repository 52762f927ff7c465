#!/usr/bin/env python3
"""Reads a PowerShell script on stdin and exits 1, naming each place, if tree-sitter-powershell's grammar
finds a syntax error in it. pwsh itself is in no registry this machine reaches; a parser of the language
is the next best check of the script `sipgate-oauth completions powershell` prints."""

import sys

import tree_sitter
import tree_sitter_powershell

parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
source = sys.stdin.buffer.read()
if not source.strip():
    sys.exit("no script on stdin")
problems = []


def walk(node):
    if node.type == "ERROR" or node.is_missing:
        problems.append(f"line {node.start_point[0] + 1}: {node.text[:60]!r}")
    for child in node.children:
        walk(child)


walk(parser.parse(source).root_node)
if problems:
    sys.exit("the PowerShell script does not parse:\n" + "\n".join(problems))
lines = len(source.splitlines())
print(f"the PowerShell script parses ({lines} lines, no syntax error)")
