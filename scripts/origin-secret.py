"""Makes sure the origin secret of one environment exists, rotating it when
asked, and prints what its stack needs: the version CloudFront must send,
and the digests the functions must accept. Never prints the secret.

    origin-secret.py NAME [--rotate] [--also VERSION]

prints

    VERSION HASHES

VERSION: the parameter's latest version; HASHES: the SHA-256 digests (hex)
of that version's value and, with --also, of version VERSION's (the one
CloudFront sends now, the stack's OriginSecretVersion output), comma-
separated: the stack's OriginVerifySha256. Requests CloudFront still signs
with that version are served while its edges move to the latest; once they
have (the deploy after), only the latest is accepted, and a secret that
leaked before a rotation stops working.

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


USAGE = "usage: origin-secret.py NAME [--rotate] [--also VERSION]"


def main(name, *options):
    options = list(options)
    rotate = "--rotate" in options
    if rotate:
        options.remove("--rotate")
    also = None
    if options[:1] == ["--also"] and len(options) == 2:
        also = options[1] or None
        options = []
    if options:
        sys.exit(f"{USAGE}; unknown {options}")
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
        if rotate:
            ssm.put_parameter(Name=name, Type="String", Overwrite=True, Value=new_secret())
            print(f"rotated origin secret {name}", file=sys.stderr)
        else:
            print(f"origin secret {name} exists", file=sys.stderr)
    latest = ssm.get_parameter(Name=name)["Parameter"]
    accepted = [digest(latest["Value"])]
    if also is not None and int(also) != latest["Version"]:
        sent = ssm.get_parameter(Name=f"{name}:{also}")["Parameter"]
        accepted.append(digest(sent["Value"]))
    print(latest["Version"], ",".join(accepted))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(USAGE)
    main(*sys.argv[1:])
