#!/usr/bin/python3
"""test_shorthand.py - the CLI's shorthand parser against the AWS CLI's
own (awscli.shorthand.ShorthandParser from Debian's awscli, the oracle):
the same structures for what parses, and for what does not the same
error (expected, received, caret column, input echoed) except that
kmscks masks every value character with '*'.

Usage: test_shorthand.py SHORTHAND_DRIVER
"""
import json
import subprocess
import sys

try:
    from awscli.shorthand import ShorthandParser, ShorthandParseError
except ImportError:
    print('SKIP: Debian awscli (python3) is not installed')
    sys.exit(77)

INPUTS = [
    'AccessKeyId=ABCDE12345670EXAMPLE,RawSecretAccessKey=abc/def+ghi==',
    'RawSecretAccessKey=x==,AccessKeyId=y',
    ' AccessKeyId = a , RawSecretAccessKey = b ',
    'AccessKeyId="quoted, with comma",RawSecretAccessKey=\'single\'',
    'AccessKeyId="esc \\" quote",RawSecretAccessKey=\'it\\\'s\'',
    'AccessKeyId=a\\,b,RawSecretAccessKey=c',
    'AccessKeyId=a,b,c',
    'AccessKeyId=a,b,RawSecretAccessKey=c',
    'AccessKeyId=X,RawSecretAccessKey',
    'AccessKeyId=SECRETA,SECRETB',
    'AccessKeyId=[a,b],RawSecretAccessKey={k=v,l=[1,2]}',
    'AccessKeyId=,RawSecretAccessKey=',
    'AccessKeyId=',
    'AccessKeyId=Ключ✓日本,RawSecretAccessKey=é',
    'AccessKeyId=a=b=c',
    'a.b#c/d:e-f_g=1',
    'AccessKeyId=trailing spaces   ',
    'AccessKeyId=x\n,RawSecretAccessKey=y',
    # errors
    'AccessKeyId',
    'AccessKeyId=ABCDE12345670EXAMPLE,',
    'AccessKeyId=a,AccessKeyId=b',
    '',
    '=value',
    'AccessKeyId="unterminated',
    "AccessKeyId='unterminated",
    'AccessKeyId=[a,b',
    'AccessKeyId={k=v',
    'AccessKeyId={k}',
    'AccessKeyId=a RawSecretAccessKey=b',
    'AccessKeyId=ok,\nRawSecretAccessKey',
    'AccessKeyId=ok,bad"x',
    'key with space=1',
    'AccessKeyId=a,,RawSecretAccessKey=b',
]


def oracle(value):
    try:
        return json.dumps(ShorthandParser().parse(value),
                          ensure_ascii=False), None
    except ShorthandParseError as e:
        return None, str(e)


def masked_equal(expected, got):
    """got is expected with some characters replaced by '*'."""
    if len(expected) != len(got):
        return False
    return all(g == e or g == '*' for e, g in zip(expected, got))


def main():
    driver = sys.argv[1]
    passed = failed = 0
    for i, value in enumerate(INPUTS):
        exp, exp_err = oracle(value)
        out = subprocess.run([driver, value], capture_output=True).stdout
        out = out.decode('utf-8')
        if out.startswith('ERROR\n'):
            got, got_err = None, out[len('ERROR\n'):]
        else:
            got, got_err = out.rstrip('\n'), None
        if exp is not None:
            ok = got == exp
        else:
            ok = got_err is not None and masked_equal(exp_err, got_err)
            # the values must really be masked: no value text survives
            if ok and '=' in value:
                for part in value.split(','):
                    val = part.split('=', 1)[-1].strip().strip('"\'')
                    if len(val) >= 4 and val in got_err and \
                            val not in ('AccessKeyId', 'RawSecretAccessKey'):
                        ok = False
        name = 'shorthand %d %r' % (i, value)
        if ok:
            passed += 1
            print('ok - %s' % name)
        else:
            failed += 1
            print('not ok - %s\n  expected %r %r\n  got      %r %r'
                  % (name, exp, exp_err, got, got_err))
    print('%d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


sys.exit(main())
