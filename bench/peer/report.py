#!/usr/bin/env python3
"""Turns run.sh's wrk outputs into the comparison table: prints it and
writes docs/benchmarks-peer.md.

Usage: report.py OUT_DIR DOC_PATH --rounds N --duration 15s ... (see run.sh)
"""

import argparse
import datetime
import os
import platform
import re
import subprocess

LABELS = {
    "mix": "request mix (84% reads; logins, registers, writes)",
    "mix-nologin": "request mix without login/register",
    "article": "one article, anonymous",
    "feed": "feed, signed in (random seeded user)",
    "tags": "tags",
    "profile": "one profile, anonymous",
}


def result(path):
    """The RESULT line workload.lua's done() prints, as numbers."""
    try:
        with open(path) as f:
            for line in f:
                if line.startswith("RESULT "):
                    r = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}
                    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
                    return r
    except FileNotFoundError:
        pass
    return None


def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def machine():
    model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                  if l.startswith("model name")), platform.processor())
    mem = next((int(l.split()[1]) for l in open("/proc/meminfo")
                if l.startswith("MemTotal")), 0) / 1024 / 1024
    return f"{model} ({os.cpu_count()} cores, {mem:.1f} GiB, Linux {platform.release()})"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("doc")
    for name in ("rounds", "duration", "connections", "seed", "cache_ttl", "elapsed",
                 "workloads", "rust_log", "peer_bin", "ours_bin", "peer_commit"):
        p.add_argument("--" + name.replace("_", "-"), default="")
    a = p.parse_args()
    rounds = range(1, int(a.rounds or 2) + 1)
    workloads = a.workloads.split()

    def mean(server, w):
        rs = [r["rps"] for r in (result(f"{a.out}/{server}-r{i}-{w}.txt") for i in rounds) if r]
        return sum(rs) / len(rs) if rs else None

    table = ["| workload | ours req/s | peer req/s | ratio peer/ours |", "|---|---:|---:|---:|"]
    for w in workloads:
        ours, peer = mean("ours", w), mean("peer", w)
        ratio = f"{peer / ours:.2f}" if ours and peer else "n/a"
        fmt = lambda v: f"{v:,.0f}" if v is not None else "n/a"
        table.append(f"| {LABELS.get(w, w)} | {fmt(ours)} | {fmt(peer)} | {ratio} |")
    table = "\n".join(table)
    print(table)

    detail = ["| workload | server | round | req/s | p50 ms | p99 ms | non-2xx | socket errors |",
              "|---|---|---:|---:|---:|---:|---:|---:|"]
    for w in workloads:
        for server in ("ours", "peer"):
            for i in rounds:
                r = result(f"{a.out}/{server}-r{i}-{w}.txt")
                if r:
                    detail.append(
                        f"| {w} | {server} | {i} | {r['rps']:,.0f} | {r['p50_us'] / 1000:.2f} | "
                        f"{r['p99_us'] / 1000:.2f} | {r['non2xx']} | {r['socket_errors']} |")
                else:
                    detail.append(f"| {w} | {server} | {i} | missing | | | | |")
    detail = "\n".join(detail)

    root = os.path.dirname(os.path.abspath(a.doc)) + "/.."
    commit = sh("git", "-C", root, "rev-parse", "--short", "HEAD")
    dirty = " (with uncommitted changes in the tree)" if sh("git", "-C", root, "status", "--porcelain") else ""
    built = ""
    if a.ours_bin and os.path.exists(a.ours_bin):
        built = datetime.datetime.fromtimestamp(os.path.getmtime(a.ours_bin), datetime.timezone.utc)
        built = f", `conduit-local` built {built:%Y-%m-%d %H:%M} UTC"
    load = lambda name: sh("cat", f"{a.out}/{name}").split("load average:")[-1].strip()
    now = datetime.datetime.now(datetime.timezone.utc)
    elapsed = int(a.elapsed or 0)
    pg_version = (re.findall(r"\d+(?:\.\d+)+", sh("postgres", "--version")) or ["?"])[0]

    doc = f"""# Benchmarks: ours next to the best peer

Written by `bench/peer/run.sh`: do not edit by hand. {now:%Y-%m-%d %H:%M} UTC; commit {commit}{dirty}{built}; machine: {machine()}. The run took {elapsed // 60} min {elapsed % 60} s.

What is compared: our whole API in one process, `conduit-local` (release build, every route in-process on the embedded DynamoDB-compatible engine, dynoxide on SQLite), against [launchbadge/realworld-axum-sqlx](https://github.com/launchbadge/realworld-axum-sqlx) at commit {a.peer_commit[:7] or "?"} (axum 0.3 + sqlx 0.5, release build; one patch, its lock file moved from sha2 0.9.8 to 0.9.9, as 0.9.8's AVX2 SHA-512 crashes the server at the first token it signs when built with a current rustc: `bench/peer/build-peer.sh`) on PostgreSQL {pg_version} with its default configuration.

## Throughput

Requests per second, the mean of {len(rounds)} rounds; ratio above 1: the peer serves more.

{table}

## Method

- Each server runs alone, in turn (ours, then the peer, in each round), pinned to core 0 with `taskset -c 0`: for the peer, PostgreSQL (every backend) and the server share that core; ours runs its database engine inside its own server process. Each round starts each server on fresh data (a new `DATA_DIR`; a new PostgreSQL cluster from `initdb`).
- Ours: `SERVER_TIMING=0` (no per-request metering), `CACHE_TTL_SECONDS={a.cache_ttl}` (its read cache on), `LOGIN_MAX_FAILURES_PER_CLIENT=100000`, `RUST_LOG={a.rust_log}` (by default ours writes a JSON log line per request, which costs it 10-25% on the single-request workloads here; the peer writes none by default). The peer: `DATABASE_URL` and `HMAC_KEY` only (its pool: 50 connections); PostgreSQL defaults (fsync on, `shared_buffers` 128 MB).
- Seeded alike through the API (`bench/peer/seed.py`, as `bench/src/load.rs` seeds): 50 users, 3 articles each (150, two tags each), each user following the next 5, one comment per article.
- Load: `taskset -c 1 wrk -t1 -c{a.connections} -d{a.duration} --latency -s bench/peer/workload.lua URL -- WORKLOAD DATA_DIR NONCE {a.seed}` after a 3 s warm-up of the mix without logins. The script draws requests from LuaJIT's PRNG seeded with {a.seed}, so both servers get the same request sequence (a faster server just gets further into it); tokens come from the seeding.
- Workloads: the request mix of `bench/src/load.rs` (list articles 22%, by tag 6%, feed 8%, article 18%, comments 12%, tags 10%, profile 8%; register 1%, login 2%, create article 3%, comment 5%, favorite 5%; a third of the reads signed in); the same without login and register (the two that hash a password); then single requests: one article anonymous, the feed signed in as a random seeded user, the tag list, one profile anonymous.

## Caveats

- Not the same storage: the peer talks to PostgreSQL over a socket, a separate process on the same core; ours calls an embedded SQLite-based DynamoDB engine through the AWS SDK, whose DynamoDB requests the engine answers in the same process (no socket; `local/src/engine.rs`). Neither is what ours runs on in production (Lambda and DynamoDB).
- Password hashing differs: ours uses argon2id at 19 MiB and 2 iterations (OWASP's first setting), the peer the argon2 0.3 crate's defaults (4 MiB, 3 iterations), so logins and registers cost them differently; the mix without them is the fairer mix.
- Response status: the peer answers creations with 200, ours with 201; wrk counts either as success. Non-2xx responses are counted below and should be 0.
- The machine has 2 cores, shared with other work (builds, other benchmarks) during the run, so figures are noisy: compare the rounds below. Load average before the run: {load("load-before.txt")}; after: {load("load-after.txt")}.

## Per round

{detail}

## Rerun

```sh
bench/peer/run.sh
```

Needs `wrk` (`apt-get install -y wrk`), python3, PostgreSQL's `initdb`/`pg_ctl`/`postgres` and `psql` on the PATH, and `target/release/conduit-local` (`cargo build --release -p conduit-local`); it builds the peer into /tmp (`bench/peer/build-peer.sh`) when `/tmp/peer-target/release/realworld-axum-sqlx` is missing. `ROUNDS`, `DURATION`, `CONNECTIONS`, `SEED` and `CACHE_TTL_SECONDS` override the defaults. See `bench/peer/README.md`.
"""
    with open(a.doc, "w") as f:
        f.write(doc)
    print(f"wrote {a.doc}")


if __name__ == "__main__":
    main()
