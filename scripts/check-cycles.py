#!/usr/bin/env python3
"""
check-cycles.py - dependencies in src/ and bench/ go one way.

Usage: scripts/check-cycles.py [BUILD_DIR]

Two graphs, both of which must be free of loops:

1. Includes. A node is a file of src/, include/ or bench/; an edge is an
   #include "..." that resolves to another of them (beside the file, then
   src/, then include/, as the Makefile's -I flags do). Any cycle fails:
   header <-> header, and also a pair of modules whose .c files include
   each other's headers (a.c reaches b.h and b.c reaches a.h).

2. Calls. A node is an object file of src/ or bench/ in BUILD_DIR/obj
   (default build/); an edge a -> b means a.o uses a symbol that b.o defines (nm).
   This catches the loops a shared internal header hides: three files
   declared in one client_internal.h that call each other round.

A call loop within one listed in KNOWN_CALL_LOOPS is reported but does not
fail (it is work still to do); any other fails. Exit status: 0 no loop, 1 a
loop (each printed with the edges that make it), 2 bad usage or no objects.
"""

import collections
import os
import re
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
INCLUDE_ROOTS = ["src", "include"]
# Where the sources are: the include roots, and the benchmark's own C.
SOURCE_ROOTS = INCLUDE_ROOTS + ["bench"]

# Loops known when the check was written, each a set of object names
# (paths below obj/ without .o). They shrink; none may be added.
KNOWN_CALL_LOOPS = []


def strongly_connected(graph):
    """Tarjan's algorithm, iteratively: the components of more than one
    node (the loops)."""
    index, low, on_stack, stack, loops = {}, {}, set(), [], []
    counter = [0]
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            v, it = work[-1]
            pushed = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                    pushed = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if pushed:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = set()
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.add(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    loops.append(comp)
    return loops


def source_files():
    out = []
    for base in SOURCE_ROOTS:
        for d, _, names in os.walk(os.path.join(ROOT, base)):
            for n in names:
                if n.endswith((".c", ".h")):
                    out.append(os.path.relpath(os.path.join(d, n), ROOT))
    return sorted(out)


def include_graph(files):
    known = set(files)
    graph = collections.defaultdict(set)
    pattern = re.compile(r'\s*#\s*include\s+"([^"]+)"')
    for f in files:
        with open(os.path.join(ROOT, f), errors="replace") as fh:
            for line in fh:
                m = pattern.match(line)
                if not m:
                    continue
                for base in [os.path.dirname(f)] + INCLUDE_ROOTS:
                    t = os.path.normpath(os.path.join(base, m.group(1)))
                    if t in known:
                        if t != f:
                            graph[f].add(t)
                        break
        graph.setdefault(f, set())
    return graph


def reached(graph, f):
    seen, todo = set(), [f]
    while todo:
        for h in graph[todo.pop()]:
            if h not in seen:
                seen.add(h)
                todo.append(h)
    return seen


def include_problems(graph):
    problems = []
    for loop in strongly_connected(graph):
        problems.append("include loop: " + " -> ".join(sorted(loop)))
    stem = lambda p: os.path.splitext(p)[0]
    sources = [f for f in graph if f.endswith(".c")]
    for a in sources:
        for h in sorted(reached(graph, a)):
            b = stem(h) + ".c"
            if b <= a or b not in graph or stem(a) + ".h" not in graph:
                continue
            if stem(a) + ".h" in reached(graph, b):
                problems.append("include loop: %s includes %s and %s "
                                "includes %s" % (a, h, b, stem(a) + ".h"))
    return problems


def call_graph(build):
    objdir = os.path.join(build, "obj")
    objects = []
    for d, _, names in [w for base in SOURCE_ROOTS
                        for w in os.walk(os.path.join(objdir, base))]:
        for n in names:
            o = os.path.join(d, n)
            # an object whose source is gone (moved, removed) is stale
            if n.endswith(".o") and os.path.isfile(os.path.join(
                    ROOT, os.path.relpath(o, objdir)[:-2] + ".c")):
                objects.append(o)
    defined = collections.defaultdict(set)
    used = collections.defaultdict(set)
    for o in objects:
        name = os.path.relpath(o, objdir)[:-2]
        text = subprocess.run(["nm", o], capture_output=True, text=True,
                              check=True).stdout
        for line in text.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] in "TDBRWV":
                defined[parts[2]].add(name)
            elif len(parts) == 2 and parts[0] == "U":
                used[name].add(parts[1])
    graph = collections.defaultdict(set)
    why = {}
    for a, symbols in used.items():
        for s in sorted(symbols):
            owners = defined.get(s, set())
            if len(owners) != 1:
                continue    # a library's, or main() of several programs
            b = next(iter(owners))
            if b != a:
                graph[a].add(b)
                why.setdefault((a, b), s)
    return objects, graph, why


def main(argv):
    if len(argv) > 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    build = os.path.abspath(argv[1] if len(argv) == 2 else
                            os.environ.get("BUILD_DIR",
                                           os.path.join(ROOT, "build")))
    failed = False
    for p in include_problems(include_graph(source_files())):
        print(p)
        failed = True
    objects, graph, why = call_graph(build)
    if not objects:
        print("check-cycles: no object files under %s/obj/src: build first"
              % build, file=sys.stderr)
        return 2
    for loop in strongly_connected(graph):
        edges = ["    %s -> %s (%s)" % (a, b, why[(a, b)])
                 for a in sorted(loop) for b in sorted(graph[a]) if b in loop]
        if any(loop <= k for k in KNOWN_CALL_LOOPS):
            print("known call loop, still to untangle: " + ", ".join(sorted(loop)))
            continue
        print("call loop: " + ", ".join(sorted(loop)))
        print("\n".join(edges))
        failed = True
    if not failed:
        print("check-cycles: no new loop (%d objects, %d call edges)" % (
            len(objects), sum(len(v) for v in graph.values())))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
