#!/usr/bin/env python3
"""What an idle `make dev` costs, fresh and once its stream is long.

Starts the local server (the binary given, e.g. target/release/conduit-local)
on a fresh data directory, measures its CPU (utime + stime from /proc over
SECONDS) and resident memory (VmRSS) idle; writes RECORDS items straight to
the embedded engine's DynamoDB endpoint (BatchWriteItem, 25 at a time, each
with a 200-byte attribute: items the stream consumers' filters drop, so the
event source reads them all and delivers none); waits for the event source
to read them; and measures again.

    scripts/stream-idle.py target/release/conduit-local [RECORDS] [SECONDS]

Used for the figures of docs/upstream/dynoxide-stream-sequence.md.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

BINARY = sys.argv[1]
RECORDS = int(sys.argv[2]) if len(sys.argv) > 2 else 50_000
SECONDS = int(sys.argv[3]) if len(sys.argv) > 3 else 30
PORT, DYNAMODB_PORT = 3917, 8917
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def idle(pid, label):
    before = cpu_ticks(pid)
    time.sleep(SECONDS)
    used = (cpu_ticks(pid) - before) / TICKS
    print(f"{label}: {100 * used / SECONDS:.2f}% of a core over {SECONDS} s, "
          f"VmRSS {rss_mb(pid):.0f} MB", flush=True)


def dynamodb(target, body, service="DynamoDB_20120810"):
    request = urllib.request.Request(
        f"http://127.0.0.1:{DYNAMODB_PORT}/",
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": f"{service}.{target}",
            # The engine checks a signature's shape, not its value.
            "Authorization": "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=0",
            "X-Amz-Date": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()),
        },
    )
    try:
        with urllib.request.urlopen(request) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        sys.exit(f"{target}: {error.code} {error.read().decode()}")


def write(records):
    filler = "x" * 200
    for start in range(0, records, 25):
        items = [
            {"PutRequest": {"Item": {
                "PK": {"S": f"IDLE#{n}"}, "SK": {"S": "IDLE"}, "filler": {"S": filler}}}}
            for n in range(start, min(start + 25, records))
        ]
        dynamodb("BatchWriteItem", {"RequestItems": {"conduit": items}})


def caught_up(data_dir):
    """Whether every consumer's checkpoint is at the newest record."""
    try:
        with open(os.path.join(data_dir, "stream-checkpoints.json")) as file:
            checkpoints = json.load(file)
    except (FileNotFoundError, json.JSONDecodeError):
        return False
    newest = dynamodb("DescribeTable", {"TableName": "conduit"})["Table"]["LatestStreamArn"]
    shards = dynamodb("DescribeStream", {"StreamArn": newest}, "DynamoDBStreams_20120810")
    shard = shards["StreamDescription"]["Shards"][0]
    end = shard["SequenceNumberRange"].get("EndingSequenceNumber")
    done = [shard_done.get(shard["ShardId"]) for shard_done in checkpoints.values()]
    return len(done) >= 2 and all(d == end for d in done)


def main():
    data_dir = tempfile.mkdtemp(prefix="stream-idle-")
    env = dict(os.environ, PORT=str(PORT), DYNAMODB_PORT=str(DYNAMODB_PORT),
               DATA_DIR=data_dir, JWT_SECRET="idle-measurement-secret-0123456789abcdef",
               RUST_LOG="warn")
    server = subprocess.Popen([BINARY], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/api/tags")
                break
            except OSError:
                time.sleep(0.1)
        time.sleep(2)
        idle(server.pid, "fresh")
        start = time.time()
        write(RECORDS)
        print(f"wrote {RECORDS} records in {time.time() - start:.0f} s", flush=True)
        while not caught_up(data_dir):
            time.sleep(1)
        print(f"the event source caught up {time.time() - start:.0f} s after the first write",
              flush=True)
        size = os.path.getsize(os.path.join(data_dir, "conduit.db")) / 2**20
        print(f"conduit.db: {size:.0f} MB", flush=True)
        idle(server.pid, f"after {RECORDS} records")
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(data_dir, ignore_errors=True)


main()
