"""Makes sure the origin secret of one environment exists, rotating it when
asked, and prints what its stack needs: the version CloudFront must send,
and the digests the functions must accept. Never prints the secret.

    origin-secret.py NAME [--rotate]

prints

    VERSION HASHES

VERSION: the parameter's latest version; HASHES: the SHA-256 digests (hex)
of that version's value and of the one before it, if any, comma-separated:
the stack's OriginVerifySha256, so that requests CloudFront signed with the
previous secret are still served while its edges take the new one.

NAME is the environment's OriginSecretParameterName override in
samconfig.toml. The secret is a String parameter, created randomly if it is
missing: CloudFront takes no SecureString (and shows the value in its
configuration to whoever may read that anyway); the template reads it with
{{resolve:ssm:NAME:VERSION}}. --rotate puts a new random value (a new
version); an existing secret is otherwise left alone.

Used by scripts/deploy.sh (`--rotate-origin-secret` rotates), in the API
stack's region.
"""

import hashlib
import secrets
import sys

import boto3


def digest(value):
    return hashlib.sha256(value.encode()).hexdigest()


def new_secret():
    # URL-safe: it travels as an HTTP header value.
    return secrets.token_urlsafe(32)


def main(name, *options):
    if any(option != "--rotate" for option in options):
        sys.exit(f"usage: origin-secret.py NAME [--rotate]; unknown {options}")
    ssm = boto3.client("ssm")
    try:
        ssm.put_parameter(
            Name=name,
            Type="String",
            Overwrite=False,
            Value=new_secret(),
            Description="Conduit origin secret: CloudFront sends it to the API (x-origin-verify)",
        )
        print(f"created origin secret {name}", file=sys.stderr)
    except ssm.exceptions.ParameterAlreadyExists:
        if options:
            ssm.put_parameter(Name=name, Type="String", Overwrite=True, Value=new_secret())
            print(f"rotated origin secret {name}", file=sys.stderr)
        else:
            print(f"origin secret {name} exists", file=sys.stderr)
    history = [
        entry
        for page in ssm.get_paginator("get_parameter_history").paginate(Name=name)
        for entry in page["Parameters"]
    ]
    history.sort(key=lambda entry: entry["Version"])
    latest = history[-1]
    accepted = [digest(entry["Value"]) for entry in reversed(history[-2:])]
    print(latest["Version"], ",".join(accepted))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: origin-secret.py NAME [--rotate]")
    main(*sys.argv[1:])
