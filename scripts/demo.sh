#!/usr/bin/env bash
# `make demo`: the example project's suite, run several times with telemetry and sent to a local
# `suitescope serve` (SQLite, in examples/shop/.suitescope-demo); then the dashboard's URL. The server keeps
# running until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
PY="$PWD/$BIN/python"
DATA="$PWD/examples/shop/.suitescope-demo"
RUNS=${DEMO_RUNS:-6}
PORT=${DEMO_PORT:-$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
URL="http://127.0.0.1:$PORT"

rm -rf "$DATA" examples/shop/.telemetry
"$BIN/suitescope" project create --data-dir "$DATA" demo/shop --public > /dev/null
TOKEN=$("$BIN/suitescope" token create --data-dir "$DATA" --project demo/shop --scope ingest --note demo 2> /dev/null)

"$BIN/suitescope" serve --data-dir "$DATA" --port "$PORT" --log-level warning > "$DATA/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2> /dev/null || true' EXIT
"$PY" - "$URL" <<'PY'
import sys, time, urllib.request
for _ in range(150):
    try:
        urllib.request.urlopen(sys.argv[1] + "/healthz", timeout=1)
        break
    except OSError:
        time.sleep(0.2)
else:
    sys.exit("suitescope serve did not start: see examples/shop/.suitescope-demo/serve.log")
PY

annotate() {  # a release between runs, as a GitHub webhook or a deploy script would post it
  "$PY" - "$URL" "$TOKEN" "$1" <<'PY'
import json, sys, urllib.request
url, token, version = sys.argv[1:]
body = json.dumps({"kind": "release", "title": f"shop {version}", "version": version, "key": version}).encode()
request = urllib.request.Request(url + "/api/v1/annotations", data=body, method="POST",
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
urllib.request.urlopen(request, timeout=5)
PY
}

for i in $(seq 1 "$RUNS"); do
  [ "$i" -eq $((RUNS / 2 + 1)) ] && annotate "v1.$((i - 1)).0"
  workers=$([ "$i" -gt 2 ] && echo "-n 2" || true)
  echo "== run $i of $RUNS ${workers:+(xdist $workers)}"
  (cd examples/shop && SUITESCOPE_TOKEN="$TOKEN" "$PY" -m pytest -q -p no:cacheprovider --suitescope \
     --suitescope-url "$URL" --suitescope-project demo/shop --suitescope-cov=shop $workers || true) | tail -4
done
"$BIN/suitescope" report examples/shop/.telemetry --last 1 --slowest 5 --top 5 || true

"$PY" - "$URL" <<'PY'
import json, sys, time, urllib.request
for _ in range(100):  # until the worker stored every run sent
    if json.load(urllib.request.urlopen(sys.argv[1] + "/healthz", timeout=5))["queue"] == {}:
        break
    time.sleep(0.1)
PY
echo
echo "dashboard: $URL/p/demo/shop"
echo "(suitescope serve keeps running with the demo's data: stop it with Ctrl-C)"
wait $SERVER
