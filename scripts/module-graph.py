#!/usr/bin/env python3
"""The module graph of Tactus in C, from the #include lines, and the rules
docs/architecture.md states about it:

  - each module (folder) has one public header; another module includes
    only that one, never a private header;
  - the graph between modules has no cycle;
  - the untrusted side (runtime/vm, runtime/probe) depends on base and
    proto only, includes no curl, OpenSSL, libpq or HTTP-server header, and
    never reads the environment;
  - the language server (lsp) uses base, frontend and checker only (it
    analyses text; it never runs, stores or sends anything) and includes no
    network, crypto or database header;
  - no source file of the trusted runtime folders or of lsp is over
    MAX_LINES lines.

    scripts/module-graph.py [--dot] [ROOT]

Prints each module with the modules it uses, and exits 1 naming every rule
broken. --dot prints the graph for Graphviz instead. Tests, benchmarks and
generated grammars are not modules (tests may include a module's private
header: they test its insides).
"""
import os
import re
import sys

MAX_LINES = 700

# folder -> its public header
MODULES = {
    "base": "base.h",
    "frontend": "frontend.h",
    "checker": "checker.h",
    "specs": "specs.h",
    "evals": "evals.h",
    "evals/stats": "evstats.h",
    "lsp": "lsp.h",
    "cli": "cli.h",
    "runtime/proto": "proto.h",
    "runtime/vm": "vm.h",
    "runtime/probe": None,
    "runtime/connect": None,
    "runtime/pool": None,
    "runtime/hostlib": "hostlib.h",
    "runtime/config": "config.h",
    "runtime/broker": "broker.h",
    "runtime/mcp": "mcp.h",
    "runtime/sandbox": "sandbox.h",
    "runtime/durable": "durable.h",
    "runtime/journal": "journal.h",
    "runtime/queue": "queue.h",
    "runtime/serve": "serve.h",
    "runtime/supervisor": "supervisor.h",
}
UNTRUSTED = {"runtime/vm", "runtime/probe", "runtime/pool"}
UNTRUSTED_MAY_USE = {"base", "runtime/proto"}
TRUSTED_RUNTIME = {"runtime/hostlib", "runtime/config", "runtime/broker", "runtime/mcp", "runtime/sandbox",
                   "runtime/durable", "runtime/journal", "runtime/queue", "runtime/serve",
                   "runtime/supervisor"}
# The language server reads the model and the checker's findings, nothing else.
LSP_MAY_USE = {"base", "frontend", "checker"}
# Folders whose every source file stays under MAX_LINES (small modules, split by job).
LINE_LIMITED = TRUSTED_RUNTIME | {"lsp"}
FORBIDDEN_SYSTEM = re.compile(r"^\s*#\s*include\s*<(curl/|openssl/|libpq|microhttpd|sqlite3|yaml\.h)")
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')


def module_of(path):
    """The module a source path belongs to (its folder, providers/ with broker)."""
    d = os.path.dirname(path)
    while d and d not in MODULES:
        d = os.path.dirname(d)
    return d or None


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    dot = "--dot" in sys.argv
    root = os.path.abspath(args[0] if args else os.path.join(os.path.dirname(__file__), ".."))
    os.chdir(root)
    files = []
    for mod in MODULES:
        for dirpath, _, names in os.walk(mod):
            for n in sorted(names):
                if n.endswith((".c", ".h")) and os.path.join(dirpath, n) not in files:
                    files.append(os.path.join(dirpath, n))  # evals/ walks evals/stats/ too
    owner = {}  # header name -> module
    for f in files:
        if f.endswith(".h"):
            owner.setdefault(os.path.basename(f), module_of(f))
    edges = {m: set() for m in MODULES}
    problems = []
    for f in files:
        mod = module_of(f)
        with open(f, encoding="utf-8", errors="replace") as fh:
            lines = fh.readlines()
        if mod in LINE_LIMITED and len(lines) > MAX_LINES:
            problems.append(f"{f}: {len(lines)} lines, over {MAX_LINES}: split it by job")
        for no, line in enumerate(lines, 1):
            m = INCLUDE.match(line)
            if m:
                hdr = os.path.basename(m.group(1))
                other = owner.get(hdr)
                if other is None or other == mod:
                    continue
                if MODULES[other] != hdr:
                    problems.append(f"{f}:{no}: includes {hdr}, a private header of {other}")
                edges[mod].add(other)
            if mod in UNTRUSTED and FORBIDDEN_SYSTEM.match(line):
                problems.append(f"{f}:{no}: the untrusted side includes {line.strip()}")
            if mod == "lsp" and FORBIDDEN_SYSTEM.match(line):
                problems.append(f"{f}:{no}: the language server includes {line.strip()}")
            if mod in UNTRUSTED and re.search(r"\b(secure_)?getenv\s*\(", line):
                problems.append(f"{f}:{no}: the untrusted side reads the environment")
    for mod in UNTRUSTED:
        for other in sorted(edges[mod] - UNTRUSTED_MAY_USE):
            problems.append(f"{mod} uses {other}: the untrusted side may use only base and proto")
    for other in sorted(edges["lsp"] - LSP_MAY_USE):
        problems.append(f"lsp uses {other}: the language server may use only base, frontend and "
                        f"checker")
    # Cycles, by depth-first search.
    state, stack = {}, []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for o in sorted(edges[m]):
            if state.get(o) == 1:
                cyc = stack[stack.index(o):] + [o]
                problems.append("cycle between modules: " + " -> ".join(cyc))
            elif not state.get(o):
                visit(o)
        stack.pop()
        state[m] = 2

    for m in sorted(MODULES):
        if not state.get(m):
            visit(m)
    if dot:
        print("digraph tactus {\n  rankdir=TB; node [shape=box];")
        for m in sorted(edges):
            for o in sorted(edges[m]):
                print(f'  "{m}" -> "{o}";')
        print("}")
    else:
        width = max(len(m) for m in MODULES)
        for m in sorted(MODULES):
            uses = ", ".join(sorted(edges[m])) or "-"
            print(f"{m:<{width}}  uses  {uses}")
    if problems:
        print(f"\nmodule-graph: {len(problems)} problem(s):", file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        return 1
    print(f"\nmodule-graph: {len(MODULES)} modules, {sum(len(e) for e in edges.values())} edges, "
          f"no cycle, no private header used across modules, the untrusted side uses base and "
          f"proto only, lsp uses base, frontend and checker only, no trusted runtime or lsp file "
          f"over {MAX_LINES} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
