#!/usr/bin/python3
"""summary.py - one closing line over meson test logs: the checks inside
every test ("N passed, M failed" lines each test prints) and the tests
themselves, so CI ends with "checks: N passed, M failed".
    summary.py BUILD_DIR...
"""
import json
import re
import sys

LINE = re.compile(r"^(\d+) passed, (\d+) failed", re.M)
passed = failed = 0
for build in sys.argv[1:]:
    with open(build + "/meson-logs/testlog.json", encoding="utf-8") as f:
        for row in f:
            test = json.loads(row)
            if test["result"] == "SKIP":
                continue
            counts = LINE.findall(test.get("stdout") or "")
            if counts:
                # the last such line is the test's own total
                p, m = map(int, counts[-1])
            else:
                p, m = (1, 0) if test["result"] == "OK" else (0, 1)
            if test["result"] != "OK" and m == 0:
                m = 1
            passed += p
            failed += m
print("checks: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
