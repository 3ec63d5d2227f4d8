#!/usr/bin/env python3
"""Regenerates the pinned layout table of tests/unit/plugin/test_abi_pin.c from the public
headers (core/include/paysync/*.h): every member of every public struct, its offset and size,
and every struct's size, as compiled here (x86_64 LP64). Run it only for a deliberate ABI
change:  python3 tests/tools/gen_abi_pin.py  (from the source tree; needs cc)."""
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
HEADERS = ["status.h", "decimal.h", "model.h", "plugin.h"]
TEST = os.path.join(ROOT, "tests", "unit", "plugin", "test_abi_pin.c")
BEGIN, END = "/* BEGIN PINNED LAYOUT", "/* END PINNED LAYOUT */"


def structs():
    out = []
    for h in HEADERS:
        s = open(os.path.join(ROOT, "core", "include", "paysync", h)).read()
        s = re.sub(r"/\*.*?\*/", "", s, flags=re.S)
        s = re.sub(r"#if defined\(__GNUC__\).*?#endif", "", s, flags=re.S)
        for m in re.finditer(r"typedef struct (\w+) \{(.*?)\n\} (\w+);", s, flags=re.S):
            members = []
            for decl in m.group(2).split(";"):
                decl = " ".join(decl.split())
                if not decl:
                    continue
                fm = re.search(r"\(\*(\w+)\)", decl)
                if fm:
                    members.append(fm.group(1))
                    continue
                parts = re.sub(r"\[[^\]]*\]", "", decl).split(",")
                members.append(parts[0].split()[-1].lstrip("*"))
                members += [p.strip().lstrip("*") for p in parts[1:]]
            out.append((m.group(3), members))
    return out


def main():
    src = ["#include <stddef.h>", "#include <stdio.h>", '#include "paysync/plugin.h"',
           "int main(void) {"]
    for name, members in structs():
        src.append('printf("    S(%s, %%zu),\\n", sizeof(%s));' % (name, name))
        for m in members:
            src.append('printf("    M(%s, %s, %%zu, %%zu),\\n", offsetof(%s, %s), '
                       'sizeof(((%s *)0)->%s));' % (name, m, name, m, name, m))
    src.append("return 0; }")
    with tempfile.TemporaryDirectory() as d:
        c, exe = os.path.join(d, "g.c"), os.path.join(d, "g")
        open(c, "w").write("\n".join(src))
        subprocess.run(["cc", "-std=c11", "-I", os.path.join(ROOT, "core", "include"), c, "-o",
                        exe], check=True)
        table = subprocess.run([exe], check=True, capture_output=True, text=True).stdout
    t = open(TEST).read()
    i = t.index(BEGIN)
    i = t.index("\n", i) + 1
    j = t.index(END)
    open(TEST, "w").write(t[:i] + table + t[j:])
    print("updated", TEST, file=sys.stderr)


if __name__ == "__main__":
    main()
