"""Validates a FHIR R4 Bundle with fhir.resources 6.4 (R4, 4.0.1), resource by
resource, and checks that every reference resolves within the bundle.
Usage: python validate_fhir.py BUNDLE.json; prints one line per problem and
"ok N" with the number of resources on success."""
import json
import sys

import fhir.resources
from fhir.resources import get_fhir_model_class

assert fhir.resources.__version__.startswith("6.4."), fhir.resources.__version__

with open(sys.argv[1]) as f:
    bundle = json.load(f)

problems = []
get_fhir_model_class("Bundle").parse_obj(bundle)
urls = set()
for i, entry in enumerate(bundle.get("entry", [])):
    res = entry["resource"]
    urls.add(entry["fullUrl"])
    if "id" in res:
        urls.add("%s/%s" % (res["resourceType"], res["id"]))
    try:
        get_fhir_model_class(res["resourceType"]).parse_obj(res)
    except Exception as e:  # pydantic.ValidationError
        problems.append("entry[%d] %s: %s" % (i, res["resourceType"], str(e).replace("\n", " | ")))


def refs(value, path):
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "reference" and isinstance(v, str):
                yield path, v
            else:
                yield from refs(v, path + "." + k)
    elif isinstance(value, list):
        for n, v in enumerate(value):
            yield from refs(v, "%s[%d]" % (path, n))


for i, entry in enumerate(bundle.get("entry", [])):
    for path, ref in refs(entry["resource"], "entry[%d]" % i):
        if ref not in urls:
            problems.append("%s: reference %s does not resolve in the bundle" % (path, ref))

for p in problems:
    print(p)
if problems:
    sys.exit(1)
print("ok", len(bundle.get("entry", [])))
