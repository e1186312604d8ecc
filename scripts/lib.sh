# Shared by the test scripts: free ports and waiting for servers.

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for NAME URL [SECONDS]: until URL answers HTTP at all (any status).
wait_for() {
  local name=$1 url=$2 seconds=${3:-60} i
  for ((i = 0; i < seconds * 10; i++)); do
    if curl -s -o /dev/null --max-time 1 "$url"; then return 0; fi
    sleep 0.1
  done
  echo "$name did not come up at $url within ${seconds}s" >&2
  return 1
}
