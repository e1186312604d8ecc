"""Reads a deployed stack back from the (emulated) account, as JSON for
`xtask check-deployed` and `xtask check-retained`.

    read_back.py STACK OUTPUT.json

Only reads, through the same APIs a person would use in the console. The
endpoint comes from AWS_ENDPOINT_URL (the rehearsal's emulator).
"""

import json
import sys

import boto3
from botocore.exceptions import ClientError


def pages(client, operation, key, **kwargs):
    return [
        item
        for page in client.get_paginator(operation).paginate(**kwargs)
        for item in page[key]
    ]


def read_stack(name):
    cfn = boto3.client("cloudformation")
    try:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    except ClientError:
        return {"stack": None}
    resources = pages(cfn, "list_stack_resources", "StackResourceSummaries", StackName=name)
    return {
        "stack": {
            "status": stack["StackStatus"],
            "outputs": {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []},
            "parameters": {
                p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters") or []
            },
        },
        "resources": [
            {
                "logical": r["LogicalResourceId"],
                "physical": r.get("PhysicalResourceId"),
                "type": r["ResourceType"],
            }
            for r in resources
        ],
    }


def read_functions():
    lam = boto3.client("lambda")
    return [f["FunctionName"] for f in pages(lam, "list_functions", "Functions")]


def read_tables():
    return pages(boto3.client("dynamodb"), "list_tables", "TableNames")


def read_parameters():
    ssm = boto3.client("ssm")
    return sorted(p["Name"] for p in pages(ssm, "describe_parameters", "Parameters"))


def main(stack, output):
    state = read_stack(stack)
    state["functions"] = read_functions()
    state["tables"] = read_tables()
    state["ssm_parameters"] = read_parameters()
    with open(output, "w") as f:
        json.dump(state, f, indent=1, sort_keys=True, default=str)


if __name__ == "__main__":
    main(*sys.argv[1:])
