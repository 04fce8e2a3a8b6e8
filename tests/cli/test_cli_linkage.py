#!/usr/bin/python3
"""The kmscks CLI links the core's native transport, never libcurl: its
dynamic section (readelf -d) names libssl and libcrypto and no libcurl,
and its symbol table calls no curl_* function. Each binary after the
first is checked the same way (the integration driver built over the
native transport), and the reference driver over libcurl must list it,
so the check itself is known to see libcurl when it is there.

    test_cli_linkage.py KMSCKS KMSDRIVE_NATIVE KMSDRIVE_CURL
"""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "integration"))
from nettest import check, finish  # noqa: E402

def needed(path):
    out = subprocess.run(["readelf", "-d", path], stdout=subprocess.PIPE, check=True).stdout.decode()
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def curl_symbols(path):
    out = subprocess.run(["readelf", "-W", "--dyn-syms", path], stdout=subprocess.PIPE,
                         check=True).stdout.decode()
    return sorted(set(re.findall(r"\b(curl_\w+)", out)))


def main():
    kmscks, native, curl = sys.argv[1:4]
    for path in (kmscks, native):
        libs = needed(path)
        check("%s: no libcurl in NEEDED" % path, not any("curl" in l for l in libs), libs)
        check("%s: links libssl (the native transport's TLS)" % path,
              any(l.startswith("libssl.") for l in libs), libs)
        check("%s: no curl_* symbol" % path, not curl_symbols(path), curl_symbols(path))
    libs = needed(curl)
    check("%s: the libcurl build does list libcurl" % curl, any("libcurl" in l for l in libs), libs)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
