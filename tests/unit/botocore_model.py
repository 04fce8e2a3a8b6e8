"""botocore_model.py - the current KMS model for the botocore referees of
tests/unit: $KMS_SHARED/reference/kms-custom-key-store-model.json (by
default the shared/ folder beside the repository), loaded into
botocore.model.ServiceModel, because Debian's botocore ships an older KMS
model. Exits 77 (skip) when the file is missing."""
import json
import os
import sys

import botocore.model


def load_model():
    shared = os.environ.get("KMS_SHARED")
    if not shared:
        here = os.path.dirname(os.path.abspath(__file__))
        shared = os.path.join(here, "..", "..", "..", "shared")
    path = os.path.join(shared, "reference", "kms-custom-key-store-model.json")
    if not os.path.exists(path):
        print("1..0 # SKIP model not found at %s" % path)
        sys.exit(77)
    with open(path, encoding="utf-8") as f:
        return botocore.model.ServiceModel(json.load(f), service_name="kms")
