"""Creates the JWT secret of one environment once, randomly, as a
SecureString; never printed, never overwritten (rotating it signs everyone
out: delete it and redeploy).

    ensure-jwt-secret.py NAME

NAME is the environment's JwtSecretParameterName override in samconfig.toml
(`cargo run -q -p xtask -- samconfig ENV JwtSecretParameterName`).

Used by scripts/deploy.sh, and by scripts/deploy-check.sh against the
rehearsal's emulated account (AWS_ENDPOINT_URL).
"""

import secrets
import sys

import boto3


def main(name):
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
