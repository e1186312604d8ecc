"""An emulated AWS account for rehearsing `sam deploy`: moto's server, with
what it lacks for a SAM stack added, and nothing else.

    emulator.py PORT

Stock moto accepts a SAM template and silently creates nothing from it,
because CloudFormation's side of SAM (the transform) is not moto's. Each
patch below exists for one reason:

- Change sets get SAM's transform applied, where CloudFormation applies it
  (`sam deploy` always goes through a change set).
- A stack created by a change set gets its outputs, which moto computes
  only for stacks created directly (`sam deploy` reads the outputs of its
  own bucket stack, and we read `ApiUrl`).
- Lambda versions answer `Fn::GetAtt` for their number.
- `AWS::ApiGatewayV2::Api` (from its OpenAPI body, as SAM writes it),
  `AWS::ApiGatewayV2::Stage` and `AWS::Lambda::Alias` become real
  resources of moto's API Gateway and Lambda, so that what refers to them
  resolves: the outputs naming the API, the permissions and stream mappings
  naming the aliases; moto has no CloudFormation support for them.
- An `AWS::WAFv2::WebACL` has a name and an ARN, nothing else: the edge
  stack (infra/edge.yaml) then deploys and gives its WebAclArn output, so
  that scripts/deploy.sh's part before the API's stack can be rehearsed.

Everything else moto does not model (CodeDeploy, alarms, subscriptions,
CloudFront) it skips, and the rehearsal checks those on the transformed
template instead; the API's stack is rehearsed without its edge.

Moto (5.2) has no supported way to do any of the above: no transforms, no
plugin or configuration for CloudFormation resource types (it finds models
among CloudFormationModel's subclasses), and outputs only for stacks made by
CreateStack. What is public is used: ThreadedMotoServer, the backends'
create_* methods, and the model interface moto's own resources implement.
"""

import json
import os
import sys
import threading

from moto.apigatewayv2.models import apigatewayv2_backends
from moto.awslambda.models import LambdaVersion, lambda_backends
from moto.cloudformation import models as cfn
from moto.core.common_models import CloudFormationModel
from moto.server import ThreadedMotoServer
from samtranslator.translator.transform import transform

SAM = "AWS::Serverless-2016-10-31"
# moto files every model under the second part of its module's name.
MODEL_MODULE = "rehearsal.emulator"


class NoManagedPolicyNames:
    def load(self):
        return {}


def sam_transform(template, parameters):
    transforms = template.get("Transform") or []
    if isinstance(transforms, str):
        transforms = [transforms]
    if SAM not in transforms:
        return template
    return transform(template, parameters, NoManagedPolicyNames())


original_change_set_parse = cfn.ChangeSet._parse_template


def change_set_parse(self):
    original_change_set_parse(self)
    self.template_dict = sam_transform(self.template_dict, self.parameters)


cfn.ChangeSet._parse_template = change_set_parse

original_execute = cfn.CloudFormationBackend.execute_change_set


def execute_change_set(self, change_set_name, stack_name=None):
    change_set = self.describe_change_set(change_set_name)
    original_execute(self, change_set_name, stack_name)
    stack = self.stacks[change_set.stack_id]
    stack.template_dict = change_set.template_dict
    stack.output_map = stack._create_output_map()


cfn.CloudFormationBackend.execute_change_set = execute_change_set


# `!GetAtt Fn.Version.Version`, the number the alias and the rollback alarm
# name: moto's versions have no attributes.
LambdaVersion.has_cfn_attr = classmethod(lambda cls, attr: attr == "Version")
LambdaVersion.get_cfn_attribute = lambda self, attr: str(self.version)


class HttpApi(CloudFormationModel):
    """An HTTP API, its routes and integrations imported from its body."""

    __module__ = MODEL_MODULE

    def __init__(self, api):
        self.api = api

    @staticmethod
    def cloudformation_type():
        return "AWS::ApiGatewayV2::Api"

    @property
    def physical_resource_id(self):
        return self.api.api_id

    @classmethod
    def has_cfn_attr(cls, attr):
        return attr == "ApiEndpoint"

    def get_cfn_attribute(self, attr):
        return self.api.api_endpoint

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        props = cloudformation_json["Properties"]
        backend = apigatewayv2_backends[account_id][region_name]
        body = props.get("Body", {})
        api = backend.create_api(
            api_key_selection_expression=None,
            cors_configuration=None,
            description=props.get("Description"),
            disable_schema_validation=None,
            disable_execute_api_endpoint=None,
            name=body.get("info", {}).get("title", resource_name),
            protocol_type="HTTP",
            route_selection_expression=None,
            tags=props.get("Tags", {}),
            version=None,
        )
        api.import_api(json.dumps(body), fail_on_warnings=False)
        return cls(api)

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        props = cloudformation_json["Properties"]
        original_resource.api.import_api(json.dumps(props.get("Body", {})), False)
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name
    ):
        apigatewayv2_backends[account_id][region_name].delete_api(resource_name)


class HttpApiStage(CloudFormationModel):

    __module__ = MODEL_MODULE
    def __init__(self, api_id, stage):
        self.api_id = api_id
        self.stage = stage

    @staticmethod
    def cloudformation_type():
        return "AWS::ApiGatewayV2::Stage"

    @property
    def physical_resource_id(self):
        return self.stage.name

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        props = cloudformation_json["Properties"]
        backend = apigatewayv2_backends[account_id][region_name]
        config = {"stageName": props["StageName"], "autoDeploy": props.get("AutoDeploy", False)}
        if "DefaultRouteSettings" in props:
            settings = props["DefaultRouteSettings"]
            config["defaultRouteSettings"] = {
                "throttlingBurstLimit": settings.get("ThrottlingBurstLimit"),
                "throttlingRateLimit": settings.get("ThrottlingRateLimit"),
            }
        return cls(props["ApiId"], backend.create_stage(props["ApiId"], config))

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        return original_resource


class FunctionAlias(CloudFormationModel):

    __module__ = MODEL_MODULE
    def __init__(self, alias):
        self.alias = alias

    @staticmethod
    def cloudformation_type():
        return "AWS::Lambda::Alias"

    @property
    def physical_resource_id(self):
        return self.alias.arn

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        props = cloudformation_json["Properties"]
        alias = lambda_backends[account_id][region_name].create_alias(
            name=props["Name"],
            function_name=props["FunctionName"],
            function_version=str(props["FunctionVersion"]),
            description=props.get("Description", ""),
            routing_config=props.get("RoutingConfig"),
        )
        return cls(alias)

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )


class ArnOnly:
    """A resource the rehearsal needs only the ARN of (its physical id and
    its one attribute); what it holds is checked on the template. A mixin:
    moto finds the models among CloudFormationModel's direct subclasses."""

    def __init__(self, physical_id, arn):
        self.physical_id = physical_id
        self.arn = arn

    @property
    def physical_resource_id(self):
        return self.physical_id

    @classmethod
    def has_cfn_attr(cls, attr):
        return attr == "Arn"

    def get_cfn_attribute(self, attr):
        return self.arn

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        return original_resource


class AlarmName(ArnOnly, CloudFormationModel):
    """Only the name and ARN of an alarm, for the dashboard that shows it:
    alarms are checked on the transformed template, not here."""

    __module__ = MODEL_MODULE

    @staticmethod
    def cloudformation_type():
        return "AWS::CloudWatch::Alarm"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        arn = f"arn:aws:cloudwatch:{region_name}:{account_id}:alarm:{resource_name}"
        return cls(resource_name, arn)


class WebAclName(ArnOnly, CloudFormationModel):
    """Only the name and ARN of a web ACL, for the edge stack's output: its
    rules are checked on the template (xtask's checks of infra/edge.yaml)."""

    __module__ = MODEL_MODULE

    @staticmethod
    def cloudformation_type():
        return "AWS::WAFv2::WebACL"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        name = cloudformation_json["Properties"].get("Name", resource_name)
        scope = "global" if cloudformation_json["Properties"].get("Scope") == "CLOUDFRONT" else "regional"
        web_acl_id = "0b3c9b1e-6a3e-4b43-9d1e-1c2d3e4f5a6b"
        arn = f"arn:aws:wafv2:{region_name}:{account_id}:{scope}/webacl/{name}/{web_acl_id}"
        return cls(arn, arn)


def main(port):
    # SAM's translator fills AWS::Region from boto's default; so does `sam`.
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=int(port))
    server.start()
    print(f"emulated AWS on http://localhost:{port}", flush=True)
    try:
        threading.Event().wait()  # until a signal stops it
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main(*sys.argv[1:])
