#!/usr/bin/env python3
"""test_face_includes.py - the faces use the public API only.

Fails when a C file under bindings/ or module/plugin/ includes a header of
the core's internals (module/src): the faces reach the core through
module/include/kms/ alone (docs/DESIGN.md, "One pipeline, four faces").
A quoted include that resolves next to the including file is that file's
own header and is fine, unless it lives in module/src itself.
Usage: test_face_includes.py [SOURCE_ROOT] (default: $KMS_SOURCE_ROOT).
"""
import os
import re
import sys

FACES = ("bindings", os.path.join("module", "plugin"))
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)
C_FILE = re.compile(r"\.(c|h|cc|cpp|inc)$")


def internal_headers(root):
    """Names of the headers in module/src (and any folder below it)."""
    src = os.path.join(root, "module", "src")
    names = set()
    for d, _, files in os.walk(src):
        for f in files:
            if f.endswith(".h"):
                names.add(f)
    return src, names


def violations(root):
    src, names = internal_headers(root)
    if not names:
        sys.exit("no headers found in %s: wrong source root?" % src)
    src = os.path.realpath(src)
    found = []
    for face in FACES:
        for d, _, files in os.walk(os.path.join(root, face)):
            for f in sorted(files):
                if not C_FILE.search(f):
                    continue
                path = os.path.join(d, f)
                with open(path, encoding="utf-8", errors="replace") as fh:
                    text = fh.read()
                for m in INCLUDE.finditer(text):
                    kind, inc = m.group(1), m.group(2)
                    line = text.count("\n", 0, m.start()) + 1
                    where = "%s:%d" % (os.path.relpath(path, root), line)
                    local = os.path.realpath(os.path.join(d, inc))
                    if kind == '"' and os.path.exists(local):
                        if (local + os.sep).startswith(src + os.sep):
                            found.append((where, inc))
                        continue
                    if ("module/src/" in inc.replace("\\", "/") or
                            os.path.basename(inc) in names):
                        found.append((where, inc))
    return found


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.environ.get(
        "KMS_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
    found = violations(root)
    for where, inc in found:
        print("not ok - %s includes the core's internal header %s" %
              (where, inc))
    if found:
        print("# use the public API in module/include/kms/kms.h instead")
        return 1
    print("ok 1 - no face includes a header from module/src")
    return 0


if __name__ == "__main__":
    sys.exit(main())
