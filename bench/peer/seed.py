#!/usr/bin/env python3
"""Seeds a Conduit (RealWorld) API through its HTTP API, identically for any
implementation, and writes what the wrk scripts need into OUT_DIR:

  users.txt  one "username token" line per seeded user, in seeding order
  slugs.txt  one slug per seeded article, in seeding order

The data mirror bench/src/load.rs: 50 users (authorN@bench.example), each
with 3 articles tagged from a fixed list, each following the next 5 users;
one comment on every article, by user (i * 7) % 50.

Usage: seed.py BASE_URL OUT_DIR
"""

import http.client
import json
import os
import sys
import time
import urllib.parse

USERS = 50
ARTICLES_PER_USER = 3
FOLLOWS = 5
PASSWORD = "benchmark-password"
TAGS = ["rust", "dynamodb", "lambda", "serverless", "aws",
        "api", "web", "mobile", "cloud", "perf"]


class Api:
    def __init__(self, base):
        url = urllib.parse.urlsplit(base)
        self.conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)

    def call(self, method, path, body=None, token=None):
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Token {token}"
        data = json.dumps(body) if body is not None else None
        self.conn.request(method, path, body=data, headers=headers)
        reply = self.conn.getresponse()
        raw = reply.read()
        if not 200 <= reply.status < 300:
            sys.exit(f"seeding: {method} {path} -> {reply.status} {raw[:300]!r}")
        return json.loads(raw) if raw else None


def wait_ready(base, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            Api(base).call("GET", "/api/tags")
            return
        except (OSError, http.client.HTTPException, SystemExit):
            time.sleep(0.2)
    sys.exit(f"{base} did not answer within {timeout} s")


def main():
    base, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    wait_ready(base)
    api = Api(base)
    users = []
    for i in range(USERS):
        name = f"author{i}"
        reply = api.call("POST", "/api/users", {"user": {
            "username": name, "email": f"{name}@bench.example", "password": PASSWORD}})
        users.append((name, reply["user"]["token"]))
    slugs = []
    for i, (_, token) in enumerate(users):
        for j in range(ARTICLES_PER_USER):
            tags = [TAGS[(i + j) % len(TAGS)], TAGS[(i * 3 + j) % len(TAGS)]]
            tags = list(dict.fromkeys(tags))  # no duplicate tag in one article
            reply = api.call("POST", "/api/articles", {"article": {
                "title": f"Article {j} by {i}", "description": "A seeded article",
                "body": "Lorem ipsum dolor sit amet. " * 40, "tagList": tags}}, token)
            slugs.append(reply["article"]["slug"])
        for k in range(1, FOLLOWS + 1):
            followee = users[(i + k) % USERS][0]
            api.call("POST", f"/api/profiles/{followee}/follow", None, token)
    for i, slug in enumerate(slugs):
        token = users[(i * 7) % USERS][1]
        api.call("POST", f"/api/articles/{slug}/comments",
                 {"comment": {"body": "A seeded comment"}}, token)
    with open(os.path.join(out, "users.txt"), "w") as f:
        f.writelines(f"{name} {token}\n" for name, token in users)
    with open(os.path.join(out, "slugs.txt"), "w") as f:
        f.writelines(f"{slug}\n" for slug in slugs)
    print(f"seeded {len(users)} users, {len(slugs)} articles, "
          f"{len(users) * FOLLOWS} follows, {len(slugs)} comments")


if __name__ == "__main__":
    main()
