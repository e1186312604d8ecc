"""Creates the token signing key set of one environment once, randomly, as
a SecureString; never printed, never overwritten. The set is JSON: a current
key and the next one, each with its id (common/src/auth/keys.rs). The
rotate_signing_keys job rotates it every 31 days (`conduit-admin
rotate-keys` by hand), signing nobody out.

    ensure-jwt-secret.py NAME

NAME is the environment's JwtSecretParameterName override in samconfig.toml
(`cargo run -q -p xtask -- samconfig ENV JwtSecretParameterName`).

Used by scripts/deploy.sh, and by scripts/deploy-check.sh against the
rehearsal's emulated account (AWS_ENDPOINT_URL).
"""

import json
import secrets
import sys

import boto3


def new_key():
    return {"kid": secrets.token_urlsafe(6), "secret": secrets.token_urlsafe(48)}


def main(name):
    ssm = boto3.client("ssm")
    try:
        ssm.put_parameter(
            Name=name,
            Type="SecureString",
            Overwrite=False,
            Value=json.dumps({"current": new_key(), "next": new_key()}),
            Description="Conduit token signing keys",
        )
        print(f"created JWT secret {name}")
    except ssm.exceptions.ParameterAlreadyExists:
        print(f"JWT secret {name} exists")


if __name__ == "__main__":
    main(*sys.argv[1:])
