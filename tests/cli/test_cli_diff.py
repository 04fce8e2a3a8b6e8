#!/usr/bin/python3
"""test_cli_diff.py - differential tests: every case runs Debian's
`/usr/bin/aws kms update-custom-key-store` and `kmscks
update-custom-key-store` with the same arguments, files and environment
against the KMS emulator (reset before each run), and compares the exit
status, stdout, the first request's target, path and body, and the number
of requests. Cases where kmscks is stricter assert its refusal (252, the
member named, nothing sent); the few deliberate differences assert both
sides. Every kmscks run is scanned for every secret the tests use.

Usage: test_cli_diff.py [-j N] [-k SUBSTRING]
"""

import argparse
import concurrent.futures
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402

HSM = "cks-1234567890abcdef0"        # the seed's CloudHSM store
XKS = "cks-0987654321fedcba0"        # the seed's external key store
XKS_AKID = "BCDEF34567234EXAMPLE"    # a credential the seed's proxy takes
XKS_SECRET = "7a6QGqd5MwwUJQQ34nIfTPTWmREcNu9M6uf2W3qbnGs="
CRED = "AccessKeyId=%s,RawSecretAccessKey=%s" % (XKS_AKID, XKS_SECRET)
CRED_JSON = '{"AccessKeyId": "%s", "RawSecretAccessKey": "%s"}' % (
    XKS_AKID, XKS_SECRET)
PROFILE_AKID = "AKIDPROFILE"
PROFILE_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYPROFILEKEY"
TOKEN = "FQoGZXIvYXdzEXAMPLETOKENsecret"
OK200 = [{"kind": "status", "status": 200, "json": {}, "count": 50}]

CASES = []


def case(name, args, **kw):
    kw.setdefault("mode", "same")
    kw.setdefault("endpoint", True)
    CASES.append(dict(name=name, args=list(args), **kw))


def profile_files(region=None):
    cfg = "[profile p1]\n" + ("region = %s\n" % region if region else "")
    return {".aws/credentials": "[p1]\naws_access_key_id = %s\n"
            "aws_secret_access_key = %s\n" % (PROFILE_AKID, PROFILE_SECRET),
            ".aws/config": cfg}


def add_profile_credentials(emu):
    emu.add_credentials(PROFILE_AKID, PROFILE_SECRET)


def add_token_credentials(emu):
    emu.add_credentials("AKIDTOKEN", clitest.SECRET_KEY, session_token=TOKEN)


def connect_xks(emu):
    emu.put_store({"id": XKS, "state": "CONNECTED"})


def connect_hsm(emu):
    emu.put_store({"id": HSM, "state": "CONNECTED"})


# {===== options and argument forms =====
case("id_only", ["--custom-key-store-id", HSM])
case("new_name", ["--custom-key-store-id", HSM,
                  "--new-custom-key-store-name", "NewName"])
case("equals_form", ["--custom-key-store-id=" + HSM,
                     "--new-custom-key-store-name=NewName"])
case("last_one_wins", ["--custom-key-store-id", HSM,
                       "--new-custom-key-store-name", "First",
                       "--new-custom-key-store-name", "Second"])
case("option_order_irrelevant", ["--new-custom-key-store-name", "N2",
                                 "--key-store-password", "ExamplePassword",
                                 "--custom-key-store-id", HSM])
case("dash_value_needs_equals", ["--custom-key-store-id", HSM,
                                 "--key-store-password", "-abc1234"])
case("dash_value_with_equals", ["--custom-key-store-id", HSM,
                                "--key-store-password=-abc1234"])
case("unique_prefixes", ["--custom-key", HSM, "--new-custom-key-store-n",
                         "Abbrev"])
case("ambiguous_prefix", ["--custom-key-store-id", XKS, "--xks-proxy-uri",
                          "x"])
case("unknown_option", ["--custom-key-store-id", HSM, "--bogus-option", "1"])
case("stray_positional", ["--custom-key-store-id", HSM, "extra-positional"])
case("missing_required", ["--new-custom-key-store-name", "NoId"])
case("missing_value", ["--custom-key-store-id"])
case("empty_id", ["--custom-key-store-id", ""])
case("empty_name", ["--custom-key-store-id", HSM,
                    "--new-custom-key-store-name", ""])
case("empty_credential", ["--custom-key-store-id", XKS,
                          "--xks-proxy-authentication-credential", ""])
case("password", ["--custom-key-store-id", HSM, "--key-store-password",
                  "ExamplePassword"])
case("related_cluster", ["--custom-key-store-id", HSM,
                         "--cloud-hsm-cluster-id", "cluster-5b67c2defgh"])
case("missing_cluster", ["--custom-key-store-id", HSM,
                         "--cloud-hsm-cluster-id", "cluster-234abcdefgh5"])
case("xks_endpoint_and_path", ["--custom-key-store-id", XKS,
                               "--xks-proxy-uri-endpoint",
                               "https://myproxy.xks.example.com",
                               "--xks-proxy-uri-path", "/kms/xks/v1"])
case("xks_switch_to_vpc", ["--custom-key-store-id", XKS,
                           "--xks-proxy-connectivity", "VPC_ENDPOINT_SERVICE",
                           "--xks-proxy-uri-endpoint",
                           "https://myproxy-private.xks.example.com",
                           "--xks-proxy-vpc-endpoint-service-name",
                           "com.amazonaws.vpce.us-east-1.vpce-svc-example"],
     faults=OK200)
case("scalar_never_json", ["--custom-key-store-id", '{"a":1}'], faults=OK200)
case("unicode_name", ["--custom-key-store-id", HSM,
                      "--new-custom-key-store-name",
                      "Ключ-магазин ✓ 日本"])
case("emoji_and_escapes", ["--custom-key-store-id", HSM,
                           "--new-custom-key-store-name",
                           '😀x "q" \\ tab\there\x7f'], faults=OK200)
case("spaces_kept", ["--custom-key-store-id", HSM,
                     "--new-custom-key-store-name", "  padded  "])
case("global_before_command_and_mixed",
     ["--output", "json", "--custom-key-store-id", HSM, "--no-paginate",
      "--cli-binary-format", "base64", "--new-custom-key-store-name", "G"])
# }=====

# {===== the credential: shorthand and JSON =====
case("cred_shorthand", ["--custom-key-store-id", XKS,
                        "--xks-proxy-authentication-credential", CRED])
case("cred_shorthand_reversed",
     ["--custom-key-store-id", XKS, "--xks-proxy-authentication-credential",
      "RawSecretAccessKey=%s,AccessKeyId=%s" % (XKS_SECRET, XKS_AKID)])
case("cred_shorthand_spaces_quotes",
     ["--custom-key-store-id", XKS, "--xks-proxy-authentication-credential",
      " AccessKeyId = \"%s\" , RawSecretAccessKey = '%s' "
      % (XKS_AKID, XKS_SECRET)])
case("cred_json", ["--custom-key-store-id", XKS,
                   "--xks-proxy-authentication-credential", CRED_JSON])
case("cred_json_reversed",
     ["--custom-key-store-id", XKS, "--xks-proxy-authentication-credential",
      '  {"RawSecretAccessKey": "%s", "AccessKeyId": "%s"}'
      % (XKS_SECRET, XKS_AKID)])
case("cred_file", ["--custom-key-store-id", XKS,
                   "--xks-proxy-authentication-credential", "file://cred.json"],
     files={"cred.json": CRED_JSON + "\n"})
case("cred_last_one_wins",
     ["--custom-key-store-id", XKS, "--xks-proxy-authentication-credential",
      "AccessKeyId=ABCDE23456723EXAMPLE,RawSecretAccessKey=SECRETA",
      "--xks-proxy-authentication-credential", CRED])
case("cred_shorthand_no_equals", ["--custom-key-store-id", XKS,
                                  "--xks-proxy-authentication-credential",
                                  "AccessKeyId"])
case("cred_shorthand_trailing_comma",
     ["--custom-key-store-id", XKS, "--xks-proxy-authentication-credential",
      "AccessKeyId=ABCDE12345670EXAMPLE,"])
case("cred_shorthand_duplicate_key",
     ["--custom-key-store-id", XKS, "--xks-proxy-authentication-credential",
      "AccessKeyId=ABCDE12345670EXAMPLE,AccessKeyId=ABCDE12345670EXAMPLE"])
case("cred_invalid_json",
     ["--custom-key-store-id", XKS, "--xks-proxy-authentication-credential",
      '{"AccessKeyId":"ABCDE12345670EXAMPLE",'])
case("cred_json_array", ["--custom-key-store-id", XKS,
                         "--xks-proxy-authentication-credential", '["a"]'])
case("cred_unknown_key",
     ["--custom-key-store-id", XKS, "--xks-proxy-authentication-credential",
      CRED + ",Extra=1"])
case("cred_list_value",
     ["--custom-key-store-id", XKS, "--xks-proxy-authentication-credential",
      "AccessKeyId=%s,RawSecretAccessKey=SECRETA,SECRETB" % XKS_AKID])
case("cred_one_half", ["--custom-key-store-id", XKS,
                       "--xks-proxy-authentication-credential",
                       "AccessKeyId=%s" % XKS_AKID])
case("cred_json_wrong_type",
     ["--custom-key-store-id", XKS, "--xks-proxy-authentication-credential",
      '{"AccessKeyId": 12345, "RawSecretAccessKey": "%s"}' % XKS_SECRET])
# }=====

# {===== --cli-input-json, --cli-input-yaml =====
case("input_json_string",
     ["--cli-input-json", '{"CustomKeyStoreId": "%s", '
      '"NewCustomKeyStoreName": "FromJson"}' % HSM])
case("input_json_file", ["--cli-input-json", "file://in.json"],
     files={"in.json": '{"CustomKeyStoreId": "%s", "KeyStorePassword": '
            '"ExamplePassword"}\n' % HSM})
case("input_json_merge_order",
     ["--cli-input-json", '{"XksProxyConnectivity": "PUBLIC_ENDPOINT", '
      '"NewCustomKeyStoreName": "fromjson", "CustomKeyStoreId": "cks-json"}',
      "--custom-key-store-id", XKS, "--xks-proxy-uri-endpoint",
      "https://myproxy.xks.example.com"], faults=OK200)
case("input_json_option_wins",
     ["--cli-input-json", '{"CustomKeyStoreId": "%s", '
      '"NewCustomKeyStoreName": "FromJson"}' % HSM,
      "--new-custom-key-store-name", "FromOption"])
case("input_json_structure_replaced",
     ["--cli-input-json", '{"CustomKeyStoreId": "%s", '
      '"XksProxyAuthenticationCredential": %s}' % (XKS, CRED_JSON),
      "--xks-proxy-authentication-credential", "AccessKeyId=" + XKS_AKID])
case("input_json_credential",
     ["--cli-input-json", '{"CustomKeyStoreId": "%s", '
      '"XksProxyAuthenticationCredential": {"RawSecretAccessKey": "%s", '
      '"AccessKeyId": "%s"}}' % (XKS, XKS_SECRET, XKS_AKID)])
case("input_json_duplicate_key",
     ["--cli-input-json", '{"NewCustomKeyStoreName": "a", "CustomKeyStoreId":'
      ' "%s", "NewCustomKeyStoreName": "b"}' % HSM])
case("input_json_invalid", ["--cli-input-json", '{"CustomKeyStoreId": '])
case("input_json_empty", ["--cli-input-json", ""])
case("input_json_list", ["--cli-input-json", "[1]"])
case("input_json_unknown_key",
     ["--cli-input-json", '{"CustomKeyStoreId": "%s", "Bogus": 1}' % HSM])
case("input_json_wrong_type",
     ["--cli-input-json", '{"CustomKeyStoreId": "%s", "KeyStorePassword": '
      '12345678}' % HSM])
case("input_json_null",
     ["--cli-input-json", '{"CustomKeyStoreId": "%s", '
      '"NewCustomKeyStoreName": null}' % HSM])
case("input_json_missing_id",
     ["--cli-input-json", '{"NewCustomKeyStoreName": "x"}'])
case("input_json_equals_form_still_requires_id",
     ['--cli-input-json={"CustomKeyStoreId": "%s"}' % HSM])
case("input_yaml_string",
     ["--cli-input-yaml", "CustomKeyStoreId: %s\nNewCustomKeyStoreName: "
      "'From Yaml'\n" % HSM])
case("input_yaml_file", ["--cli-input-yaml", "file://in.yaml"],
     files={"in.yaml": "CustomKeyStoreId: %s\nKeyStorePassword: "
            "ExamplePassword  # a comment\n" % HSM})
case("input_yaml_int_is_wrong_type",
     ["--cli-input-yaml", "CustomKeyStoreId: %s\nKeyStorePassword: "
      "12345678\n" % HSM])
case("input_yaml_invalid", ["--cli-input-yaml", "a: [b\n"])
case("input_yaml_not_map", ["--cli-input-yaml", "- a\n- b\n"])
case("input_yaml_credential",
     ["--cli-input-yaml", "CustomKeyStoreId: %s\n"
      "XksProxyAuthenticationCredential:\n  RawSecretAccessKey: '%s'\n"
      "  AccessKeyId: %s\n" % (XKS, XKS_SECRET, XKS_AKID)])
case("input_yaml_timestamp_is_wrong_type",
     ["--cli-input-yaml", "CustomKeyStoreId: %s\nNewCustomKeyStoreName: "
      "2001-12-14\n" % HSM])
case("input_yaml_empty_value_is_null",
     ["--cli-input-yaml", "CustomKeyStoreId: %s\nNewCustomKeyStoreName:\n"
      % HSM])
case("input_only_one",
     ["--cli-input-json", '{"CustomKeyStoreId": "%s"}' % HSM,
      "--cli-input-yaml", "CustomKeyStoreId: x\n"])
# }=====

# {===== file:// and fileb:// =====
case("file_keeps_newline", ["--custom-key-store-id", HSM,
                            "--new-custom-key-store-name", "file://name.txt"],
     files={"name.txt": "My Store\n"})
case("file_absolute", ["--custom-key-store-id", HSM,
                       "--new-custom-key-store-name", "file://{tmp}/name.txt"],
     files={"name.txt": "Absolute"})
case("file_tilde", ["--custom-key-store-id", HSM,
                    "--new-custom-key-store-name", "file://~/name.txt"],
     files={"name.txt": "FromHome"})
case("file_crlf", ["--custom-key-store-id", HSM,
                   "--new-custom-key-store-name", "file://crlf.txt"],
     files={"crlf.txt": b"Line1\r\nLine2\rEnd\r\n"})
case("file_missing", ["--custom-key-store-id", HSM,
                      "--new-custom-key-store-name", "file://missing.txt"])
case("file_password_stdin", ["--custom-key-store-id", HSM,
                             "--key-store-password", "file:///dev/stdin"],
     stdin=b"ExamplePassword")
case("fileb_is_bytes", ["--custom-key-store-id", HSM,
                        "--new-custom-key-store-name", "fileb://name.txt"],
     files={"name.txt": "abc"})
# }=====

# {===== skeletons =====
case("skeleton_default", ["--generate-cli-skeleton"], endpoint=False)
case("skeleton_input_ignores_the_rest",
     ["--generate-cli-skeleton", "input", "--key-store-password", "abc"])
case("skeleton_yaml_input", ["--generate-cli-skeleton", "yaml-input"])
case("skeleton_output", ["--custom-key-store-id", HSM,
                         "--generate-cli-skeleton", "output"])
case("skeleton_output_query", ["--custom-key-store-id", HSM,
                               "--generate-cli-skeleton", "output",
                               "--query", "{a: `1`}"])
case("skeleton_output_requires_id", ["--generate-cli-skeleton", "output"])
case("skeleton_bad_value", ["--generate-cli-skeleton", "bogus"])
case("skeleton_equals_form_requires_id", ["--generate-cli-skeleton=input"])
# }=====

# {===== output formats and --query =====
for fmt in ("json", "text", "table", "yaml", "yaml-stream"):
    case("output_%s_empty" % fmt, ["--custom-key-store-id", HSM,
                                   "--output", fmt])
for fmt in ("json", "text", "table", "yaml"):
    case("query_missing_%s" % fmt, ["--custom-key-store-id", HSM, "--output",
                                    fmt, "--query", "KeyStoreId"])
    case("query_literal_%s" % fmt,
         ["--custom-key-store-id", HSM, "--output", fmt, "--query",
          '{Id: `"cks-1"`, Count: `3`, Ratio: `1.5`, On: `true`, '
          'Tags: [`"a"`, `"b"`], Nested: {Deep: `null`}}'])
case("query_at_is_empty", ["--custom-key-store-id", HSM, "--query", "@"])
case("query_length", ["--custom-key-store-id", HSM, "--query", "length(@)"])
case("query_table_color_on", ["--custom-key-store-id", HSM, "--output",
                              "table", "--color", "on", "--query",
                              "{a: `1`, b: `[1, 2]`}"])
case("query_bad_expression", ["--custom-key-store-id", HSM, "--query", "["])
case("query_unknown_function", ["--custom-key-store-id", HSM, "--query",
                                "foo(@)"])
case("output_bad_choice", ["--custom-key-store-id", HSM, "--output", "jsonn"])
case("default_output_from_env", ["--custom-key-store-id", HSM, "--query",
                                 "{a: `1`}"],
     env={"AWS_DEFAULT_OUTPUT": "text"})
case("default_output_bogus_sends_first", ["--custom-key-store-id", HSM],
     env={"AWS_DEFAULT_OUTPUT": "bogus"})
# }=====

# {===== region, credentials, profiles =====
case("no_region", ["--custom-key-store-id", HSM],
     env={"AWS_DEFAULT_REGION": None})
case("region_from_aws_region", ["--custom-key-store-id", HSM],
     env={"AWS_DEFAULT_REGION": None, "AWS_REGION": "us-east-1"})
case("region_option_wins", ["--custom-key-store-id", HSM, "--region",
                            "eu-west-1"])
case("empty_region_with_endpoint", ["--custom-key-store-id", HSM, "--region",
                                    ""])
case("bad_region", ["--custom-key-store-id", HSM, "--region", "bad_region!"])
case("no_credentials", ["--custom-key-store-id", HSM],
     env={"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None})
case("partial_credentials", ["--custom-key-store-id", HSM],
     env={"AWS_SECRET_ACCESS_KEY": None})
case("profile_beats_env", ["--custom-key-store-id", HSM, "--profile", "p1"],
     files=profile_files(), setup=add_profile_credentials)
case("profile_region", ["--custom-key-store-id", HSM],
     env={"AWS_PROFILE": "p1", "AWS_DEFAULT_REGION": None},
     files=profile_files("us-east-1"), setup=add_profile_credentials)
case("profile_missing", ["--custom-key-store-id", HSM, "--profile",
                         "nosuch"])
case("session_token", ["--custom-key-store-id", HSM],
     env={"AWS_ACCESS_KEY_ID": "AKIDTOKEN", "AWS_SESSION_TOKEN": TOKEN},
     setup=add_token_credentials)
case("no_sign_request", ["--custom-key-store-id", HSM, "--no-sign-request"],
     env={"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None})
# }=====

case("profile_output_setting", ["--custom-key-store-id", HSM, "--query",
                                 "{a: `1`, b: `[1, 2]`}"],
     files={".aws/config": "[default]\noutput = text\n"})
case("profile_output_option_wins", ["--custom-key-store-id", HSM, "--query",
                                    "{a: `1`}", "--output", "json"],
     files={".aws/config": "[default]\noutput = table\n"})
# }=====

# {===== --debug: stdout as the AWS CLI's, no secret on stderr =====
case("debug_password_and_token", ["--custom-key-store-id", HSM,
                                  "--key-store-password", "PWSECRET123",
                                  "--debug"],
     env={"AWS_ACCESS_KEY_ID": "AKIDTOKEN", "AWS_SESSION_TOKEN": TOKEN},
     setup=add_token_credentials)
case("debug_credential", ["--custom-key-store-id", XKS, "--debug",
                          "--xks-proxy-authentication-credential", CRED])
case("debug_input_json", ["--debug", "--cli-input-json",
                          '{"CustomKeyStoreId": "%s", "KeyStorePassword": '
                          '"ExamplePassword"}' % HSM])
case("debug_retries", ["--custom-key-store-id", HSM, "--debug",
                       "--key-store-password", "file://pw.txt"],
     files={"pw.txt": "PWSECRET123"},
     faults=[{"kind": "status", "status": 503, "count": 2}],
     env={"AWS_MAX_ATTEMPTS": "2"})
# }=====

# {===== endpoints =====
case("endpoint_path_prefix", ["--custom-key-store-id", HSM,
                              "--endpoint-url", "{url}/prefix"],
     endpoint=False, faults=OK200)
case("endpoint_no_scheme", ["--custom-key-store-id", HSM, "--endpoint-url",
                            "not-a-url"], endpoint=False)
case("endpoint_ftp", ["--custom-key-store-id", HSM, "--endpoint-url",
                      "ftp://127.0.0.1/"], endpoint=False,
     env={"AWS_MAX_ATTEMPTS": "1"})
# }=====

# {===== KMS errors and retries =====
case("error_not_found", ["--custom-key-store-id", "cks-00000000000000000"])
case("error_name_in_use", ["--custom-key-store-id", HSM,
                           "--new-custom-key-store-name",
                           "ExampleExternalKeyStore"])
case("error_invalid_state", ["--custom-key-store-id", HSM,
                             "--key-store-password", "ExamplePassword"],
     setup=connect_hsm)
case("error_xks_connected_endpoint", ["--custom-key-store-id", XKS,
                                      "--xks-proxy-uri-endpoint",
                                      "https://other.xks.example.com"],
     setup=connect_xks)
case("error_unknown_type", ["--custom-key-store-id", HSM],
     faults=[{"kind": "error", "type": "SomethingWeirdException",
              "message": "odd"}])
case("error_not_json_403", ["--custom-key-store-id", HSM],
     faults=[{"kind": "status", "status": 403, "body": "not json at all"}])
case("error_429_unknown_code_no_retry", ["--custom-key-store-id", HSM],
     faults=[{"kind": "error", "type": "Foo", "status": 429,
              "message": "m"}])
case("retry_503_exhausted", ["--custom-key-store-id", HSM],
     faults=[{"kind": "status", "status": 503, "count": 3}])
case("retry_500_html", ["--custom-key-store-id", HSM],
     faults=[{"kind": "status", "status": 500,
              "body": "<html>oops</html>", "count": 2}],
     env={"AWS_MAX_ATTEMPTS": "2"})
case("retry_throttling", ["--custom-key-store-id", HSM],
     faults=[{"kind": "throttle", "count": 3}])
case("retry_limit_exceeded_then_ok", ["--custom-key-store-id", HSM],
     faults=[{"kind": "throttle", "code": "LimitExceededException"}])
case("retry_503_throttle_ok", ["--custom-key-store-id", HSM],
     faults=[{"kind": "status", "status": 503},
             {"kind": "throttle"}])
case("max_attempts_1", ["--custom-key-store-id", HSM],
     faults=[{"kind": "status", "status": 503}],
     env={"AWS_MAX_ATTEMPTS": "1"})
case("max_attempts_4", ["--custom-key-store-id", HSM],
     faults=[{"kind": "status", "status": 502, "count": 4}],
     env={"AWS_MAX_ATTEMPTS": "4", "AWS_RETRY_MODE": "standard"})
case("max_attempts_0", ["--custom-key-store-id", HSM],
     env={"AWS_MAX_ATTEMPTS": "0"})
case("retry_mode_legacy", ["--custom-key-store-id", HSM],
     env={"AWS_RETRY_MODE": "legacy"})
case("adaptive_mode", ["--custom-key-store-id", HSM],
     faults=[{"kind": "throttle"}], env={"AWS_RETRY_MODE": "adaptive"})
case("response_200_not_json", ["--custom-key-store-id", HSM],
     faults=[{"kind": "malformed", "body": "this is not JSON"}])
case("response_200_empty", ["--custom-key-store-id", HSM, "--output",
                            "text"],
     faults=[{"kind": "status", "status": 200, "body": ""}])
case("response_200_extra_field", ["--custom-key-store-id", HSM, "--query",
                                  "Unexpected"],
     faults=[{"kind": "status", "status": 200,
              "json": {"Unexpected": "field"}}])
case("response_301_not_followed", ["--custom-key-store-id", HSM],
     faults=[{"kind": "status", "status": 301, "body": "",
              "headers": {"Location": "http://127.0.0.1:1/"}}])
case("response_truncated", ["--custom-key-store-id", HSM],
     faults=[{"kind": "truncated", "body": "{", "count": 2}],
     env={"AWS_MAX_ATTEMPTS": "2"})
case("connection_dropped", ["--custom-key-store-id", HSM],
     faults=[{"kind": "drop", "count": 2}], env={"AWS_MAX_ATTEMPTS": "2"})
case("read_timeout", ["--custom-key-store-id", HSM,
                      "--cli-read-timeout", "1"],
     faults=[{"kind": "slow", "seconds": 3}], env={"AWS_MAX_ATTEMPTS": "1"})
case("read_timeout_zero_waits", ["--custom-key-store-id", HSM,
                                 "--cli-read-timeout", "0"],
     faults=[{"kind": "slow", "seconds": 1.5}])
case("read_timeout_not_int", ["--custom-key-store-id", HSM,
                              "--cli-read-timeout", "abc", "--bogus"])
case("connect_timeout_negative", ["--custom-key-store-id", HSM,
                                  "--cli-connect-timeout=-1"])
case("connect_timeout", ["--custom-key-store-id", HSM,
                         "--cli-connect-timeout", "1", "--endpoint-url",
                         "http://127.0.0.1:{blackhole}/"],
     endpoint=False, env={"AWS_MAX_ATTEMPTS": "1"}, blackhole=True)
case("connection_refused", ["--custom-key-store-id", HSM, "--endpoint-url",
                            "http://127.0.0.1:{refused}/"],
     endpoint=False, env={"AWS_MAX_ATTEMPTS": "1"})
# }=====

# {===== TLS =====
case("tls_ca_bundle", ["--custom-key-store-id", HSM, "--ca-bundle", "{ca}"],
     tls=True)
case("tls_ca_bundle_env", ["--custom-key-store-id", HSM], tls=True,
     env={"AWS_CA_BUNDLE": "{ca}"})
case("tls_untrusted", ["--custom-key-store-id", HSM], tls=True,
     env={"AWS_MAX_ATTEMPTS": "1"})
case("tls_no_verify", ["--custom-key-store-id", HSM, "--no-verify-ssl"],
     tls=True)
case("tls_missing_ca_file_on_http", ["--custom-key-store-id", HSM,
                                     "--ca-bundle", "/nonexistent/ca.pem"])
# }=====

# {===== stricter than the AWS CLI: refused before sending =====
case("strict_id_too_long", ["--custom-key-store-id", "c" * 65],
     mode="stricter", member="CustomKeyStoreId")
case("strict_name_too_long", ["--custom-key-store-id", HSM,
                              "--new-custom-key-store-name", "n" * 257],
     mode="stricter", member="NewCustomKeyStoreName")
case("strict_password_too_long", ["--custom-key-store-id", HSM,
                                  "--key-store-password",
                                  "x-SecretPassword-0123456789-abcdefghij"],
     mode="stricter", member="KeyStorePassword")
case("strict_cluster_pattern", ["--custom-key-store-id", HSM,
                                "--cloud-hsm-cluster-id",
                                "notacluster-zzzzzzzzz"],
     mode="stricter", member="CloudHsmClusterId")
case("strict_endpoint_pattern", ["--custom-key-store-id", XKS,
                                 "--xks-proxy-uri-endpoint",
                                 "http://insecure.example.com"],
     mode="stricter", member="XksProxyUriEndpoint")
case("strict_path_pattern", ["--custom-key-store-id", XKS,
                             "--xks-proxy-uri-path", "/bad/path/here"],
     mode="stricter", member="XksProxyUriPath")
case("strict_connectivity_enum", ["--custom-key-store-id", XKS,
                                  "--xks-proxy-connectivity", "BOGUS"],
     mode="stricter", member="XksProxyConnectivity")
case("strict_connectivity_lowercase", ["--custom-key-store-id", XKS,
                                       "--xks-proxy-connectivity",
                                       "public_endpoint",
                                       "--xks-proxy-uri-endpoint",
                                       "https://myproxy.xks.example.com"],
     mode="stricter", member="XksProxyConnectivity")
case("strict_mixed_types", ["--custom-key-store-id", HSM,
                            "--key-store-password", "ExamplePassword",
                            "--xks-proxy-uri-path", "/kms/xks/v1"],
     mode="stricter", member="KeyStorePassword")
case("strict_vpc_without_service_name",
     ["--custom-key-store-id", XKS, "--xks-proxy-connectivity",
      "VPC_ENDPOINT_SERVICE", "--xks-proxy-uri-endpoint",
      "https://myproxy-private.xks.example.com"],
     mode="stricter", member="XksProxyVpcEndpointServiceName")
case("strict_public_without_endpoint",
     ["--custom-key-store-id", XKS, "--xks-proxy-connectivity",
      "PUBLIC_ENDPOINT"], mode="stricter", member="XksProxyUriEndpoint")
case("strict_credential_pattern",
     ["--custom-key-store-id", XKS, "--xks-proxy-authentication-credential",
      "AccessKeyId=abcde12345670example,RawSecretAccessKey=" + XKS_SECRET],
     mode="stricter", member="AccessKeyId")
case("strict_input_json_max_length",
     ["--cli-input-json", '{"CustomKeyStoreId": "%s"}' % ("c" * 70)],
     mode="stricter", member="CustomKeyStoreId")
# }=====

# {===== deliberate differences =====
case("differs_service_owner_option",
     ["--custom-key-store-id", XKS, "--xks-proxy-vpc-endpoint-service-owner",
      "123456789012"], mode="differs", faults=OK200,
     expect={"aws_rc": 252, "kmscks_rc": 0, "kmscks_requests": 1,
             "kmscks_body": '"XksProxyVpcEndpointServiceOwner": '
                            '"123456789012"'})
case("differs_empty_service_name_clears",
     ["--custom-key-store-id", XKS, "--xks-proxy-connectivity",
      "PUBLIC_ENDPOINT", "--xks-proxy-uri-endpoint",
      "https://myproxy.xks.example.com",
      "--xks-proxy-vpc-endpoint-service-name", ""], mode="differs",
     faults=OK200,
     expect={"aws_rc": 252, "kmscks_rc": 0, "kmscks_requests": 1,
             "kmscks_body": '"XksProxyVpcEndpointServiceName": ""'})
case("differs_input_json_from_stdin", ["--cli-input-json",
                                       "file:///dev/stdin"],
     stdin=('{"CustomKeyStoreId": "%s"}' % HSM).encode(), mode="differs",
     expect={"aws_rc": 252, "kmscks_rc": 0, "kmscks_requests": 1})
case("differs_version", ["--version"], mode="differs",
     expect={"aws_rc": 0, "kmscks_rc": 0, "kmscks_requests": 0,
             "kmscks_stdout": r"^kmscks/\d+\.\d+\.\d+ "})
case("differs_help", ["help"], endpoint=False, mode="differs",
     expect={"aws_rc": 0, "kmscks_rc": 0, "kmscks_requests": 0,
             "kmscks_stdout": r"(?s)NAME.*DESCRIPTION.*SYNOPSIS.*OPTIONS.*"
                              r"GLOBAL OPTIONS.*EXAMPLES.*OUTPUT"})
case("differs_fileb_credential", ["--custom-key-store-id", XKS,
                                  "--xks-proxy-authentication-credential",
                                  "fileb://cred.json"],
     files={"cred.json": CRED_JSON}, mode="differs",
     expect={"aws_rc": 255, "kmscks_rc": 252, "kmscks_requests": 0})
# }=====


def expand(s, ctx):
    for k, v in ctx.items():
        s = s.replace("{%s}" % k, str(v))
    return s


def run_tool(tool, c, worker, ctx):
    emu = worker.tls if c.get("tls") else worker.plain
    ctx = dict(ctx, url=emu.url, ca=emu.ca or "")
    args = [expand(a, ctx) for a in c["args"]]
    if c["endpoint"]:
        args = ["--endpoint-url", emu.url] + args
    env_extra = {k: (None if v is None else expand(v, ctx))
                 for k, v in (c.get("env") or {}).items()}
    if tool == "kmscks":
        env_extra["KMS_TEST_BACKOFF_SCALE"] = "0.01"
        argv = [clitest.KMSCKS, "update-custom-key-store"] + args
    else:
        argv = [clitest.AWS, "kms", "update-custom-key-store"] + args
    env = clitest.base_env(ctx["tmp"], env_extra)
    emu.reset()
    if c.get("setup"):
        c["setup"](emu)
    if c.get("faults"):
        emu.faults(c["faults"])
    rc, out, err, elapsed = clitest.run(argv, env, cwd=ctx["tmp"],
                                        stdin=c.get("stdin"))
    reqs = emu.requests()
    return clitest.Result(argv, rc, out, err, reqs, elapsed)


def prepare_tmp(c):
    tmp = clitest.tmpdir()
    for rel, content in (c.get("files") or {}).items():
        path = os.path.join(tmp, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(content.encode() if isinstance(content, str) else content)
    return tmp


def check(c, aws, kms):
    """Returns a list of failure reasons (empty: pass)."""
    why = []
    leaks = clitest.leaked_secrets(kms.stdout + kms.stderr)
    if leaks:
        why.append("kmscks printed secrets %r" % leaks)
    mode = c["mode"]
    if mode == "same":
        if aws.rc != kms.rc:
            why.append("exit %r != %r" % (kms.rc, aws.rc))
        if aws.stdout != kms.stdout:
            why.append("stdout %r != %r" % (kms.stdout, aws.stdout))
        na, nk = len(aws.kms_requests()), len(kms.kms_requests())
        if na != nk:
            why.append("requests %d != %d" % (nk, na))
        fa, fk = aws.first(), kms.first()
        if (fa is None) != (fk is None):
            why.append("first request missing on one side")
        elif fa is not None:
            for key in ("target", "path", "body"):
                if fa[key] != fk[key]:
                    why.append("%s %r != %r" % (key, fk[key], fa[key]))
    elif mode == "stricter":
        if kms.rc != 252:
            why.append("kmscks exit %r, not 252" % kms.rc)
        if kms.kms_requests():
            why.append("kmscks sent %d requests" % len(kms.kms_requests()))
        if c["member"] not in kms.stderr:
            why.append("kmscks did not name %s: %r" % (c["member"],
                                                       kms.stderr))
        if not aws.kms_requests():
            why.append("the AWS CLI did not send it (not a stricter case)")
    else:
        e = c["expect"]
        if aws.rc != e["aws_rc"]:
            why.append("aws exit %r, expected %r" % (aws.rc, e["aws_rc"]))
        if kms.rc != e["kmscks_rc"]:
            why.append("kmscks exit %r, expected %r" % (kms.rc,
                                                        e["kmscks_rc"]))
        if len(kms.kms_requests()) != e["kmscks_requests"]:
            why.append("kmscks sent %d requests" % len(kms.kms_requests()))
        if "kmscks_body" in e and (not kms.first() or
                                   e["kmscks_body"] not in kms.first()["body"]):
            why.append("kmscks body lacks %r" % e["kmscks_body"])
        if "kmscks_stdout" in e and not re.search(e["kmscks_stdout"],
                                                  kms.stdout):
            why.append("kmscks stdout %r does not match %r"
                       % (kms.stdout[:200], e["kmscks_stdout"]))
    return why


def run_case(c, pool):
    worker = pool.acquire()
    tmp = prepare_tmp(c)
    blackhole = clitest.FullBacklog() if c.get("blackhole") else None
    ctx = {"tmp": tmp, "refused": clitest.free_port(),
           "blackhole": blackhole.port if blackhole else 0}
    try:
        aws = run_tool("aws", c, worker, ctx)
        kms = run_tool("kmscks", c, worker, ctx)
    finally:
        pool.release(worker)
        if blackhole:
            blackhole.close()
        clitest.rmtree(tmp)
    return c, aws, kms, check(c, aws, kms)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-j", type=int, default=3)
    ap.add_argument("-k", default="")
    ap.add_argument("-v", action="store_true")
    opts = ap.parse_args()
    for path in (clitest.AWS, clitest.KMSCKS):
        if not os.access(path, os.X_OK):
            print("SKIP: %s is not there" % path)
            return 77
    cases = [c for c in CASES if opts.k in c["name"]]
    passed = failed = 0
    counts = {"same": 0, "stricter": 0, "differs": 0}
    start = time.monotonic()
    with clitest.Pool(opts.j) as pool:
        with concurrent.futures.ThreadPoolExecutor(opts.j) as ex:
            futures = [ex.submit(run_case, c, pool) for c in cases]
            for f in concurrent.futures.as_completed(futures):
                c, aws, kms, why = f.result()
                counts[c["mode"]] += 1
                tag = "" if c["mode"] == "same" else " [%s]" % c["mode"]
                if not why:
                    passed += 1
                    print("ok - %s%s (aws %.1fs, kmscks %.2fs)"
                          % (c["name"], tag, aws.elapsed, kms.elapsed))
                    if opts.v:
                        print("  aws:    %s\n  kmscks: %s"
                              % (aws.describe(), kms.describe()))
                else:
                    failed += 1
                    print("not ok - %s%s\n  %s\n  aws:    %s\n  kmscks: %s"
                          % (c["name"], tag, "\n  ".join(why),
                             aws.describe(), kms.describe()))
                sys.stdout.flush()
    print("# %d cases: %d compared, %d stricter, %d deliberate differences;"
          " %.0f s" % (len(cases), counts["same"], counts["stricter"],
                       counts["differs"], time.monotonic() - start))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
