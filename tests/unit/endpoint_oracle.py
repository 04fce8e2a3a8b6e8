#!/usr/bin/python3
"""The endpoint oracle for test_endpoint.c: botocore's own resolver.

  endpoint_oracle.py RULESET REGION FIPS DUALSTACK [REGION FIPS DUALSTACK ...]

Resolves each case with botocore.regions.EndpointRulesetResolver over the
given KMS rule set and botocore's partitions.json, then applies the check
botocore's Endpoint makes on the URL (is_valid_endpoint_url), and prints
one line per case: "URL <url>" or "ERROR <message>". Exits 77 when
botocore cannot be imported.
"""
import json
import os
import sys

try:
    import botocore
    import botocore.session
    from botocore.hooks import HierarchicalEmitter
    from botocore.regions import EndpointRulesetResolver
    from botocore.utils import is_valid_endpoint_url
except ImportError:
    sys.exit(77)


def main(argv):
    with open(argv[1]) as f:
        ruleset = json.load(f)
    with open(os.path.join(os.path.dirname(botocore.__file__), "data",
                           "partitions.json")) as f:
        partitions = json.load(f)
    model = botocore.session.Session().get_service_model("kms")
    op = model.operation_model("UpdateCustomKeyStore")
    args = argv[2:]
    for i in range(0, len(args), 3):
        region, fips, dual = args[i], args[i + 1] == "1", args[i + 2] == "1"
        builtins = {"AWS::Region": region, "AWS::UseFIPS": fips,
                    "AWS::UseDualStack": dual, "SDK::Endpoint": None}
        resolver = EndpointRulesetResolver(ruleset, partitions, model,
                                           builtins, None,
                                           HierarchicalEmitter())
        try:
            url = resolver.construct_endpoint(op, {}, {}).url
            if not is_valid_endpoint_url(url):
                print("ERROR Invalid endpoint: %s" % url)
            else:
                print("URL %s" % url)
        except Exception as e:  # the rule set's error rules
            print("ERROR %s" % e)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
