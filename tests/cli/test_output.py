#!/usr/bin/python3
"""test_output.py - the CLI's --output formatters against the AWS CLI's
own (awscli.formatter from Debian's awscli, imported here as the oracle):
every value below is printed by both in json, text, table (colour off and
on), yaml and yaml-stream, and the bytes must match.

Usage: test_output.py FMT_DRIVER
"""
import io
import json
import subprocess
import sys

try:
    import colorama
    from awscli.formatter import get_formatter
except ImportError:
    print('SKIP: Debian awscli (python3) is not installed')
    sys.exit(77)

VALUES = [
    {}, [], None, True, False, 0, 1, -7, 1.5, 1.0, 100.0, 1e16, 1e-05,
    0.0001, 123456789012345678901234567890, -0.0, 2.5e-300,
    'plain', '', 'with space', 'Ключ ✓ 日本', 'tab\there', 'nl\nline',
    "it's", 'say "hi"', 'back\\slash', '\x01ctl', 'x' * 120,
    'word ' * 30, 'true', 'null', '123', '1.5', '~', '- dash', 'a: b',
    '#hash', '0o17', '2001-12-14', '=', '<<', 'yes', 'on', 'y',
    [1, 2, 3], ['a', 'b'], [[1, 2], [3, 4]], [1, [2, 3]], [{}],
    {'a': 1}, {'b': 2, 'a': 1}, {'KeyStoreId': None},
    {'a': {'b': {'c': 1}}}, {'a': [1, 2], 'b': 'x'},
    {'list': [{'n': 1, 'm': 'x'}, {'n': 2, 'm': 'y'}]},
    [{'a': 1, 'b': 2}, {'a': 3, 'c': [1, 2]}],
    [{'a': 1}, {'b': {'c': 'd'}}],
    {'wide': '日本語の文字列', 'é': 'accent'},
    {'Stores': [{'Id': 'cks-1', 'State': 'CONNECTED',
                 'Cfg': {'Path': '/kms/xks/v1', 'Conn': 'PUBLIC'}},
                {'Id': 'cks-2', 'State': 'DISCONNECTED'}]},
    {'long': 'L' * 100, 'short': 's'},
    {'a': 'x' * 40, 'b': 'y' * 40, 'c': 'z' * 10},
    [['a', 'b'], ['c']],
    {'a': [], 'b': {}, 'c': ''},
    [None, True, 1.25, 'mixed'],
    {'nested': [[1, 2], [3]]},
    {'a': 1, 'b': [{'c': 2}]},
    'ok\u2028x', '\x7f', ' lead', 'trail ', 'multi\n\nlines\n',
]

FORMATS = [('json', 'off'), ('text', 'off'), ('table', 'off'),
           ('table', 'on'), ('yaml', 'off'), ('yaml-stream', 'off')]


class FixedQuery:
    """Stands in for --query: the formatter searches it over {}."""
    def __init__(self, value):
        self.value = value

    def search(self, data):
        return self.value


class Args:
    def __init__(self, value, color):
        self.query = FixedQuery(value)
        self.color = color


def expected(fmt, color, value):
    buf = io.StringIO()
    stream = buf
    if fmt == 'table' and color == 'on':
        # colorama.init(autoreset=True) wraps stdout like this
        stream = colorama.AnsiToWin32(buf, convert=False, strip=False,
                                      autoreset=True).stream
    saved = sys.stdout, sys.stderr
    try:
        formatter = get_formatter(fmt, Args(value, color))
        formatter('UpdateCustomKeyStore', {}, stream)
    except Exception as e:   # the AWS CLI would exit 255 with this text
        return 'ERROR: %s' % e
    finally:
        # ColorizedStyler's colorama.init() wraps the process' stdout
        colorama.deinit()
        sys.stdout, sys.stderr = saved
    return buf.getvalue()


def actual(driver, fmt, color, value):
    proc = subprocess.run([driver, fmt, color, '80'],
                          input=json.dumps(value).encode(),
                          capture_output=True)
    if proc.returncode == 3:
        return 'ERROR: ' + proc.stderr.decode().split(': ', 1)[1].strip()
    if proc.returncode != 0:
        return 'CRASH %d: %s' % (proc.returncode, proc.stderr.decode())
    return proc.stdout.decode()


def main():
    driver = sys.argv[1]
    passed = failed = 0
    for i, value in enumerate(VALUES):
        for fmt, color in FORMATS:
            exp = expected(fmt, color, value)
            got = actual(driver, fmt, color, value)
            name = 'output %d %s color=%s %r' % (i, fmt, color, value)
            if len(name) > 100:
                name = name[:97] + '...'
            if exp == got:
                passed += 1
                print('ok - %s' % name)
            else:
                failed += 1
                print('not ok - %s\n  expected %r\n  got      %r'
                      % (name, exp, got))
    print('%d passed, %d failed' % (passed, failed))
    sys.exit(1 if failed else 0)


main()
