#!/usr/bin/env python3
"""check-cycles.py: no dependency cycle between paysync's core source files, and the CLI and
the core include only what they may (python3 standard library only; registered as a ctest by
tests/integration/test_include_cycles.py).

    scripts/check-cycles.py [--root DIR] [--build-dir DIR | --objdir DIR | --no-symbols] [-v]

The graph. A node is a module: core/src/<folder>/<name>.c and <name>.h together (a header
without a .c, such as config/kv.h, is a module of its own, and so is each public header
core/include/paysync/*.h). There is an edge A -> B when

  * include: a file of A has `#include "X"` (or `<paysync/X>`) and X resolves, root-relative
    to core/src, then to core/include, then next to the including file, to a file of B;
  * symbol: A's object file needs (nm type U) a global function or variable that B's object
    file defines (nm types T D B R C G S V W).

Why symbols from the objects, and not from the source text: the include graph alone cannot see
a call made through a declaration in a shared header (model/timestamp.c and model/tz.c both
included only paysync/timestamp.h and called each other), and "which header declares it"
cannot say which .c defines a function when a public header declares functions of several
files. Guessing definitions and calls with regular expressions breaks on macros, #if and
comments. The compiler has already resolved all of that: `nm -P` on the objects is exact.
The objects are those of the build tree (CMake lays the core library's out as
BUILD/core/CMakeFiles/TARGET.dir/src/<folder>/<name>.c.o; the folder with the newest objects
is used) or of --objdir with the same layout. A core .c without an object, or with an object older than the source, is an error
(exit 2: build first), never skipped; objects whose source no longer exists are ignored.

A strongly connected component of more than one module fails the check. It is reported as the
shortest cycle through each of its modules, each edge with its reasons:

    cycle: model/timestamp.c -> model/tz.c -> model/timestamp.c
        model/timestamp.c -> model/tz.c: uses ps_tz_local_to_utc
        model/tz.c -> model/timestamp.c: uses ps_civil_from_days, ps_days_from_civil

Include rules (checked on the source text, no build needed):
  * cli/*.c, cli/*.h include (quoted) only a file of cli/ itself ("due.h"), a public header
    ("paysync/X.h", in core/include) or a subsystem header ("<folder>/X.h", directly in
    core/src/<folder>/);
  * core/src files include only files of core/src or core/include;
  * nowhere a `..` component or an absolute path, nothing under plugins/, and no header that
    is found only in a plugin's folder.

--allow-cycle A,B tolerates a cycle whose modules are all among A, B (for a fix that another
branch is landing); the cycle is still printed, and an allowance that matches no cycle is
reported so that it gets removed.

Exit status: 0 clean, 1 cycles or include violations (each printed), 2 usage or environment
error (missing objects, no nm).
"""
import argparse
import collections
import os
import re
import shutil
import subprocess
import sys

INCLUDE_RE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*([<"])([^">]+)[">]', re.M)
DEFINED = set("TDBRCGSVWu")
UNDEFINED = set("Uwv")


class Fatal(Exception):
    pass


def strip_comments(text):
    """The text with comments blanked (newlines kept, so line numbers stay right); string and
    character literals are respected, so "*/N" in a message does not end a comment."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "/" and i + 1 < n and text[i + 1] == "*":
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("".join(ch if ch == "\n" else " " for ch in text[i:j]))
            i = j
        elif c == "/" and i + 1 < n and text[i + 1] == "/":
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(text[i:j])
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def includes(path):
    """[(line, delimiter, target)] of a file's #include directives."""
    with open(path, encoding="utf-8", errors="replace") as f:
        text = strip_comments(f.read())
    return [(text.count("\n", 0, m.start()) + 1, m.group(1), m.group(2))
            for m in INCLUDE_RE.finditer(text)]


def walk(top, exts):
    found = []
    for d, dirs, files in os.walk(top):
        dirs.sort()
        for name in sorted(files):
            if os.path.splitext(name)[1] in exts:
                found.append(os.path.join(d, name))
    return found


class Tree:
    def __init__(self, root):
        self.root = os.path.abspath(root)
        self.src = os.path.join(self.root, "core", "src")
        self.inc = os.path.join(self.root, "core", "include")
        self.cli = os.path.join(self.root, "cli")
        self.plugins = os.path.join(self.root, "plugins")
        if not os.path.isdir(self.src):
            raise Fatal("%s: no core/src folder (use --root)" % self.root)
        self.plugin_headers = collections.defaultdict(list)  # basename -> [paths]
        if os.path.isdir(self.plugins):
            for p in walk(self.plugins, {".h"}):
                self.plugin_headers[os.path.basename(p)].append(self.rel(p))

    def rel(self, path):
        return os.path.relpath(path, self.root)

    def module(self, path):
        """Module key of a core file: 'model/tz' or 'pub:paysync/status'."""
        path = os.path.abspath(path)
        if path.startswith(self.src + os.sep):
            return os.path.splitext(os.path.relpath(path, self.src))[0]
        if path.startswith(self.inc + os.sep):
            return "pub:" + os.path.splitext(os.path.relpath(path, self.inc))[0]
        return None

    def resolve(self, frm, target):
        """Absolute path the include names (core/src, core/include, beside the including
        file, in that order), or None."""
        for base in (self.src, self.inc, os.path.dirname(frm)):
            p = os.path.normpath(os.path.join(base, target))
            if os.path.isfile(p):
                return p
        return None

    def under(self, path, top):
        return os.path.abspath(path).startswith(top + os.sep)


def bad_path(target):
    parts = target.replace("\\", "/").split("/")
    if target.startswith("/"):
        return "an absolute path"
    if ".." in parts:
        return "a relative '../' path"
    if parts[0] == "plugins" or "plugins" in parts:
        return "a path into plugins/"
    return None


def check_includes(tree, problems):
    """Include rules for cli/ and core/src (see the header comment)."""
    files = walk(tree.src, {".c", ".h"})
    cli_files = []  # cli/*.c and cli/*.h (not cli/templates/: out-of-tree plugin sources)
    if os.path.isdir(tree.cli):
        cli_files = [os.path.join(tree.cli, n) for n in sorted(os.listdir(tree.cli))
                     if os.path.splitext(n)[1] in (".c", ".h") and
                     os.path.isfile(os.path.join(tree.cli, n))]
    for path in files + cli_files:
        is_cli = path in cli_files
        for line, delim, target in includes(path):
            where = "%s:%d: #include %s%s%s" % (tree.rel(path), line, delim, target,
                                                '"' if delim == '"' else ">")
            why = bad_path(target)
            if why:
                problems.append("%s: %s" % (where, why))
                continue
            if delim == "<":
                continue  # system headers; <paysync/x.h> is public either way
            res = tree.resolve(path, target)
            if res is None:
                owners = tree.plugin_headers.get(os.path.basename(target))
                if owners:
                    problems.append("%s: reaches into a plugin's folder (%s)" %
                                    (where, ", ".join(owners)))
                elif is_cli:
                    problems.append("%s: no such header in cli/, core/include or core/src" %
                                    where)
                continue
            if is_cli:
                if os.path.dirname(res) == tree.cli:
                    continue
                if tree.under(res, os.path.join(tree.inc, "paysync")) and \
                        target.startswith("paysync/"):
                    continue
                relsrc = os.path.relpath(res, tree.src) if tree.under(res, tree.src) else None
                if relsrc and target == relsrc and relsrc.count("/") == 1 and \
                        target.endswith(".h"):
                    continue
                problems.append("%s: the CLI includes only public headers (paysync/X.h), "
                                "subsystem headers (FOLDER/X.h of core/src) or its own" % where)
            elif not (tree.under(res, tree.src) or tree.under(res, tree.inc)):
                problems.append("%s: core/src includes only core/src and core/include files"
                                % where)


def include_edges(tree, edges):
    for path in walk(tree.src, {".c", ".h"}) + walk(tree.inc, {".h"}):
        a = tree.module(path)
        for _, delim, target in includes(path):
            if delim == "<" and not target.startswith("paysync/"):
                continue
            res = tree.resolve(path, target)
            b = tree.module(res) if res else None
            if b and b != a:
                edges[(a, b)].add("includes %s" % (os.path.relpath(res, tree.src)
                                                   if tree.under(res, tree.src)
                                                   else os.path.relpath(res, tree.inc)))


def nm_symbols(nm, obj):
    try:
        p = subprocess.run([nm, "-P", obj], capture_output=True, text=True, check=False)
    except OSError as e:
        raise Fatal("cannot run %s: %s (set NM, or use --no-symbols)" % (nm, e))
    if p.returncode != 0:
        raise Fatal("%s -P %s failed: %s" % (nm, obj, p.stderr.strip()))
    defined, needed = set(), set()
    for line in p.stdout.splitlines():
        parts = line.split()
        if len(parts) < 2 or line.endswith(":"):
            continue
        name, kind = parts[0], parts[1]
        if kind in DEFINED:
            defined.add(name)
        elif kind in UNDEFINED:
            needed.add(name)
    return defined, needed


def find_objdir(build):
    """The core library's object folder in a CMake build tree: BUILD/core/CMakeFiles/
    TARGET.dir/src. The target has been renamed before (paysync -> paysync_core), and an
    incremental tree keeps the old folder, so of all candidates the one with the newest
    object wins."""
    top = os.path.join(build, "core", "CMakeFiles")
    best, best_t = None, -1.0
    if os.path.isdir(top):
        for name in sorted(os.listdir(top)):
            src = os.path.join(top, name, "src")
            if not name.endswith(".dir") or not os.path.isdir(src):
                continue
            newest = max((os.path.getmtime(p) for p in walk(src, {".o"})), default=-1.0)
            if newest > best_t:
                best, best_t = src, newest
    if best is None:
        raise Fatal("%s: no core objects (CMakeFiles/*.dir/src): build first, or give --objdir"
                    % top)
    return best


def symbol_edges(tree, objdir, nm, edges, verbose):
    objdir = os.path.abspath(objdir)
    if not os.path.isdir(objdir):
        raise Fatal("%s: no such object folder (build first, or give --objdir / --no-symbols)"
                    % objdir)
    owner, needs = {}, {}
    for src in walk(tree.src, {".c"}):
        rel = os.path.relpath(src, tree.src)
        obj = None
        for cand in (rel + ".o", os.path.splitext(rel)[0] + ".o"):
            if os.path.isfile(os.path.join(objdir, cand)):
                obj = os.path.join(objdir, cand)
                break
        if obj is None:
            raise Fatal("core/src/%s has no object in %s: build first" % (rel, objdir))
        if os.path.getmtime(obj) < os.path.getmtime(src):
            raise Fatal("%s is older than core/src/%s: build first" % (obj, rel))
        mod = tree.module(src)
        defined, needed = nm_symbols(nm, obj)
        for s in defined:
            owner.setdefault(s, mod)
        needs[mod] = needed
        if verbose:
            print("symbols: %s defines %d, needs %d" % (rel, len(defined), len(needed)))
    for mod, needed in needs.items():
        for s in needed:
            b = owner.get(s)
            if b and b != mod:
                edges[(mod, b)].add("uses %s" % s)


def sccs(nodes, succ):
    """Tarjan's strongly connected components (iterative)."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]
    for root in sorted(nodes):
        if root in index:
            continue
        work = [(root, iter(sorted(succ[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter[0]
                    counter[0] += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(sorted(succ[nxt]))))
                elif nxt in on:
                    low[v] = min(low[v], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(sorted(comp))
    return out


def shortest_cycle(start, succ, comp):
    """Shortest path start -> ... -> start inside comp (BFS)."""
    prev = {}
    queue = collections.deque()
    for n in sorted(succ[start]):
        if n in comp and n not in prev:
            prev[n] = start
            queue.append(n)
    while queue:
        v = queue.popleft()
        if v == start:
            break
        for n in sorted(succ[v]):
            if n in comp and n not in prev:
                prev[n] = v
                queue.append(n)
    path, v = [start], prev[start]
    while v != start:
        path.append(v)
        v = prev[v]
    path.append(start)
    path.reverse()
    return path


def find_cycles(edges):
    succ = collections.defaultdict(set)
    nodes = set()
    for a, b in edges:
        succ[a].add(b)
        nodes.update((a, b))
    cycles, seen = [], set()
    for comp in sccs(nodes, succ):
        if len(comp) < 2:
            continue
        members = set(comp)
        for start in comp:
            cyc = shortest_cycle(start, succ, members)
            ring = cyc[:-1]
            k = ring.index(min(ring))
            canon = tuple(ring[k:] + ring[:k])
            if canon not in seen:
                seen.add(canon)
                cycles.append(list(canon) + [canon[0]])
    return cycles


def reasons(why):
    """'includes a.h, b.h; uses f, g' from {'includes a.h', 'uses f', ...}."""
    groups = collections.defaultdict(list)
    for w in sorted(why):
        verb, _, what = w.partition(" ")
        groups[verb].append(what)
    return "; ".join("%s %s" % (v, ", ".join(groups[v])) for v in sorted(groups))


def display(tree, mod):
    if mod.startswith("pub:"):
        return mod[4:] + ".h"
    if os.path.isfile(os.path.join(tree.src, mod + ".c")):
        return mod + ".c"
    return mod + ".h"


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", default=os.path.dirname(here), help="source tree (default: ..)")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--build-dir", help="CMake build tree holding the core's objects "
                   "(default: $PS_BUILD_DIR, else ROOT/build)")
    g.add_argument("--objdir", help="folder of object files laid out like core/src "
                   "(<folder>/<name>.c.o); default: the core target's in the build tree")
    g.add_argument("--no-symbols", action="store_true",
                   help="include edges only (misses calls through shared headers)")
    ap.add_argument("--allow-cycle", action="append", default=[], metavar="A,B[,...]",
                    help="tolerate a cycle whose modules are all among these (display names, "
                    "e.g. plugin/loader.c,plugin/options.c) while a fix is in flight; it is "
                    "still printed, and an allowance that matches nothing is reported")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    try:
        tree = Tree(args.root)
        problems = []
        check_includes(tree, problems)
        edges = collections.defaultdict(set)
        include_edges(tree, edges)
        if not args.no_symbols:
            objdir = args.objdir
            if not objdir:
                build = args.build_dir or os.environ.get("PS_BUILD_DIR") or \
                    os.path.join(tree.root, "build")
                objdir = find_objdir(build)
            nm = os.environ.get("NM") or "nm"
            if not shutil.which(nm):
                raise Fatal("%s not found (set NM, or use --no-symbols)" % nm)
            symbol_edges(tree, objdir, nm, edges, args.verbose)
    except Fatal as e:
        print("check-cycles: %s" % e, file=sys.stderr)
        return 2
    allowed = [set(a.split(",")) for a in args.allow_cycle]
    used = set()
    cycles, tolerated = [], []
    for cyc in find_cycles(edges):
        names = {display(tree, m) for m in cyc}
        hit = [i for i, a in enumerate(allowed) if names <= a]
        used.update(hit)
        (tolerated if hit else cycles).append(cyc)
    for i, a in enumerate(allowed):
        if i not in used:
            print("note: --allow-cycle %s matches no cycle any more: remove it" %
                  ",".join(sorted(a)))
    for cyc in tolerated:
        print("allowed cycle: %s" % " -> ".join(display(tree, m) for m in cyc))
    for p in problems:
        print("include: %s" % p)
    for cyc in cycles:
        names = [display(tree, m) for m in cyc]
        print("cycle: %s" % " -> ".join(names))
        for a, b in zip(cyc, cyc[1:]):
            print("    %s -> %s: %s" % (display(tree, a), display(tree, b),
                                        reasons(edges[(a, b)])))
    if args.verbose:
        for (a, b), why in sorted(edges.items()):
            print("edge: %s -> %s: %s" % (display(tree, a), display(tree, b), reasons(why)))
    mods = {m for e in edges for m in e}
    kinds = "include and symbol" if not args.no_symbols else "include"
    if cycles or problems:
        print("check-cycles: %d cycle(s), %d include violation(s) (%d modules, %d %s edges)"
              % (len(cycles), len(problems), len(mods), len(edges), kinds), file=sys.stderr)
        return 1
    print("check-cycles: no cycle among %d modules (%d %s edges%s); includes OK"
          % (len(mods), len(edges), kinds,
             "; %d allowed cycle(s)" % len(tolerated) if tolerated else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
