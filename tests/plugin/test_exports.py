#!/usr/bin/python3
"""kmscks.so exports exactly one symbol, kms_plugin_entry_v1: the core's
KMS_API functions and the plugin's internals are hidden (version script
plus hidden visibility), checked with nm -D --defined-only and readelf.

    test_exports.py PATH/TO/kmscks.so

Prints one line per check and "N passed, M failed"; 77 without nm.
"""

import shutil
import subprocess
import sys

SO = sys.argv[1]
passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok - %s" % name)
    else:
        failed += 1
        print("not ok - %s%s" % (name, ("\n#   " + str(detail).replace("\n", "\n#   ")) if detail else ""))


if not shutil.which("nm") or not shutil.which("readelf"):
    print("skip: nm or readelf missing (binutils)")
    sys.exit(77)

out = subprocess.run(["nm", "-D", "--defined-only", SO], capture_output=True, text=True)
check("nm -D --defined-only runs", out.returncode == 0, out.stderr)
lines = [l.split() for l in out.stdout.splitlines() if l.strip()]
names = [l[-1] for l in lines]
print("# nm -D --defined-only %s:\n#   %s" % (SO, "\n#   ".join(out.stdout.splitlines())))
check("exactly one defined dynamic symbol", len(names) == 1, names)
check("... kms_plugin_entry_v1, a text symbol",
      names == ["kms_plugin_entry_v1"] and lines[0][-2] == "T", lines)

# Nothing of the core leaks, whatever nm's view.
dyn = subprocess.run(["readelf", "--dyn-syms", "-W", SO], capture_output=True, text=True).stdout
defined = [l.split()[-1] for l in dyn.splitlines()
           if len(l.split()) >= 8 and l.split()[6] != "UND" and l.split()[0].rstrip(":").isdigit()
           and l.split()[3] in ("FUNC", "OBJECT")]
check("readelf: the only defined function or object is the entry point",
      [d.split("@")[0] for d in defined] == ["kms_plugin_entry_v1"], defined)
check("no kms_/kmsi_/kmsp_ symbol but the entry point",
      not [d for d in defined if d.startswith(("kms", "lkms", "kc_")) and not d.startswith("kms_plugin_entry_v1")],
      defined)

# Unloadable: not linked -z nodelete (an idle plugin can really go away).
dynamic = subprocess.run(["readelf", "-d", SO], capture_output=True, text=True).stdout
check("not linked with -z nodelete", "NODELETE" not in dynamic)

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
