"""Creates the JWT secret of one environment once, randomly, as a
SecureString; never printed, never overwritten (rotating it signs everyone
out: delete it and redeploy). Its name is samconfig.toml's
JwtSecretParameterName override for that environment.

    ensure-jwt-secret.py dev|prod

Used by scripts/deploy.sh, and by scripts/deploy-check.sh against the
rehearsal's emulated account (AWS_ENDPOINT_URL).
"""

import secrets
import shlex
import sys
import tomllib

import boto3


def parameter_name(env):
    with open("samconfig.toml", "rb") as f:
        deploy = tomllib.load(f)[env]["deploy"]["parameters"]
    overrides = deploy["parameter_overrides"]
    words = shlex.split(overrides) if isinstance(overrides, str) else overrides
    return dict(word.split("=", 1) for word in words)["JwtSecretParameterName"]


def main(env):
    name = parameter_name(env)
    ssm = boto3.client("ssm")
    try:
        ssm.put_parameter(
            Name=name,
            Type="SecureString",
            Overwrite=False,
            Value=secrets.token_urlsafe(48),
            Description="Conduit JWT signing secret",
        )
        print(f"created JWT secret {name}")
    except ssm.exceptions.ParameterAlreadyExists:
        print(f"JWT secret {name} exists")


if __name__ == "__main__":
    main(*sys.argv[1:])
