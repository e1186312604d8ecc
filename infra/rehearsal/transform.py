"""SAM's transform, as CloudFormation applies it when a stack is deployed.

    transform.py TEMPLATE OUTPUT.json [TEMPLATE OUTPUT.json]...

(Several in one run: the translator takes longer to load than to run.)

A template without SAM's transform (infra/edge.yaml) is written as it is,
its short-form intrinsics (`!Ref`, `!If`) spelled out as CloudFormation
reads them.

The linters (sam validate, cfn-lint, checkov) read the template before the
transform, so they cannot see what it becomes: which API a route lands on,
what an event source mapping invokes, the aliases and deployment groups.
`xtask check-transformed` checks this output against the route table (and
infra/edge.yaml's).

Python only because SAM's translator is (aws-sam-translator, the SAM CLI's
version): deploy-check.sh runs it in .venv-rehearsal/, whose translator
emulator.py transforms the deployed stacks with. No AWS call: the region is a placeholder, and CodeUri
becomes the s3:// URI `sam deploy` would have uploaded the code to.
"""

import json
import logging
import os
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

SAM = "AWS::Serverless-2016-10-31"


class NoManagedPolicyNames:
    """The template names no AWS managed policy by name, only by ARN or Ref."""

    def load(self):
        return {}


def main(source, output):
    try:
        write(source, output)
    except Exception as err:
        sys.exit(f"{source}: {type(err).__name__}: {err}")


def write(source, output):
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    logging.disable(logging.WARNING)  # the translator's feature-toggle chatter
    with open(source) as f:
        template = yaml_parse(f.read())
    transforms = template.get("Transform") or []
    if isinstance(transforms, str):
        transforms = [transforms]
    if SAM in transforms:
        code = template.get("Globals", {}).get("Function", {})
        if "CodeUri" in code:
            code["CodeUri"] = "s3://rehearsal/code.zip"
        transformed = transform(template, {}, NoManagedPolicyNames())
    else:
        transformed = template
    with open(output, "w") as f:
        json.dump(transformed, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    args = sys.argv[1:]
    for source, output in zip(args[::2], args[1::2]):
        main(source, output)
