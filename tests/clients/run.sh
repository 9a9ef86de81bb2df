#!/usr/bin/env bash
# Real HTTP client libraries against the server (issue 11): each uploads a
# body the server refuses and must read the status, not a broken pipe.
#
# Starts httpserver on 127.0.0.1 (a free port) over a copy of ./public, then
# with Node's fetch (undici), Python's urllib and curl:
#   - POST /echo with a 9 MB body (over --max-body-bytes): 413;
#   - PUT /index.html with a 7 MB body: 405.
# Node and Python write their whole body before they read; before the
# server lingered after such a response they got EPIPE or a reset.
# Then (issue 16) curl --compressed fetches a settled 64 KiB script once per
# coding (br, zstd, gzip), until the server's compressed variant is ready
# (at most 50 tries, 0.1 s apart), and the bytes curl decoded with its own
# libbrotli, libzstd and zlib must equal the file.
# Then basic authentication (issue 15.4): a second server with --auth over a
# file written by `htpasswd -B` (apt-get installs apache2-utils if it is
# missing), asked by `curl -u`: 401 with the challenge without or with wrong
# credentials (GET and HEAD), 200 with good ones (a UTF-8 password too),
# and the failed attempts on stderr without the password.
# Needs node, python3 and curl (all on the project's machines). Every step
# is bounded by `timeout`; the server is stopped by its process id. Exits 0
# on success, or non-zero with one line "clients test: FAIL: <reason>".
set -euo pipefail
cd "$(dirname "$0")/../.."

fail() {
    echo "clients test: FAIL: $*" >&2
    exit 1
}

for tool in node python3 curl; do
    command -v "$tool" >/dev/null || fail "'$tool' is needed"
done

source tests/support/server.sh
build_binary

work=$(mktemp -d)
server_pid=
cleanup() {
    if [[ -n $server_pid ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
mkdir "$work/root"
cp -R public/. "$work/root/"

start_server server "$work/root"
server_pid=$started_pid
port=$started_port
origin="http://127.0.0.1:$port"
echo "== server pid $server_pid on $origin"

# Each client prints the status it read, or the error it got instead.
node_upload() { # METHOD PATH BYTES
    timeout 60 node -e '
        const [method, url, bytes] = process.argv.slice(1);
        fetch(url, {method, body: Buffer.alloc(Number(bytes), 120)})
            .then(async r => { await r.arrayBuffer(); console.log(r.status); })
            .catch(e => console.log("error " + (e.cause ? e.cause.code || e.cause : e)));
    ' "$1" "$origin$2" "$3"
}
python_upload() {
    timeout 60 python3 -c '
import sys, urllib.request, urllib.error
method, url, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
request = urllib.request.Request(url, data=b"x" * size, method=method)
try:
    with urllib.request.urlopen(request, timeout=30) as response:
        print(response.status)
except urllib.error.HTTPError as e:
    e.read()
    print(e.code)
except Exception as e:
    print("error", repr(e))
' "$1" "$origin$2" "$3"
}
curl_upload() {
    head -c "$3" /dev/zero >"$work/body"
    timeout 60 curl -sS -o /dev/null -w '%{http_code}\n' -X "$1" \
        -H 'Content-Type: application/octet-stream' --data-binary @"$work/body" "$origin$2" ||
        echo "error curl exit $?"
}

failures=0
for client in node python curl; do
    for case in "POST /echo 9000000 413" "PUT /index.html 7000000 405"; do
        read -r method path bytes want <<<"$case"
        got=$("${client}_upload" "$method" "$path" "$bytes" 2>&1 | tail -n1)
        if [[ $got == "$want" ]]; then
            echo "   ok    $client $method $path ($bytes bytes): $got"
        else
            echo "   FAIL  $client $method $path ($bytes bytes): got '$got', want $want"
            failures=$((failures + 1))
        fi
    done
done
kill -0 "$server_pid" 2>/dev/null || fail "the server died"
[[ $failures == 0 ]] || fail "$failures of 6 uploads did not read their status"
echo "   uploads: node, python, curl: 413 and 405 read after a whole refused upload"

echo "== curl --compressed (issue 16)"
for i in $(seq 2000); do
    echo "export function f$i(a) { return a * $i + 1; } // line $i of the script"
done >"$work/root/compressed.js"
truncate -s 65536 "$work/root/compressed.js"
# An hour old: settled, so the server compresses it.
touch -d '1 hour ago' "$work/root/compressed.js"
for coding in br zstd gzip; do
    got=
    for _ in $(seq 50); do
        got=$(timeout 10 curl -sS --compressed -H "Accept-Encoding: $coding" \
            -o "$work/decoded" -w '%{content_type} %header{content-encoding}' \
            "$origin/compressed.js") || fail "curl $coding exited $?"
        [[ $got == *" $coding" ]] && break
        sleep 0.1
    done
    [[ $got == *" $coding" ]] || fail "compressed.js never came with Content-Encoding: $coding ($got)"
    cmp -s "$work/decoded" "$work/root/compressed.js" ||
        fail "curl's $coding decoding of compressed.js differs from the file"
    wire=$(timeout 10 curl -sS -H "Accept-Encoding: $coding" -o /dev/null \
        -w '%{size_download}' "$origin/compressed.js")
    echo "   ok    $coding: 65536 bytes sent as $wire, decoded by curl to the file"
done
kill "$server_pid" && wait "$server_pid" 2>/dev/null || true
server_pid=

echo "== basic authentication: htpasswd -B file, curl -u"
if ! command -v htpasswd >/dev/null; then
    echo "   installing apache2-utils (htpasswd)"
    timeout 300 apt-get install -y -qq apache2-utils >/dev/null || fail "cannot install apache2-utils"
fi
timeout 30 htpasswd -cbB "$work/htpasswd" alice 'open sesame' 2>/dev/null || fail "htpasswd -B failed"
timeout 30 htpasswd -bB "$work/htpasswd" 'böb' 'päss:wörd' 2>/dev/null || fail "htpasswd -B failed"
start_server auth "$work/root" --auth "$work/htpasswd" --auth-realm 'curl "test"'
server_pid=$started_pid
origin="http://127.0.0.1:$started_port"
echo "   server pid $server_pid on $origin"

check_curl() { # LABEL WANT_STATUS CURL_ARGS...
    local label=$1 want=$2 got
    shift 2
    got=$(timeout 30 curl -sS -o /dev/null -w '%{http_code}' "$@" 2>&1) || got="error: $got"
    if [[ $got == "$want" ]]; then
        echo "   ok    $label: $got"
    else
        echo "   FAIL  $label: got '$got', want $want"
        failures=$((failures + 1))
    fi
}
check_curl "no credentials" 401 "$origin/index.html"
check_curl "HEAD, no credentials" 401 -I "$origin/index.html"
check_curl "wrong password" 401 -u 'alice:open sesamE' "$origin/index.html"
check_curl "unknown user" 401 -u 'mallory:open sesame' "$origin/index.html"
check_curl "good credentials" 200 -u 'alice:open sesame' "$origin/index.html"
check_curl "good credentials again (cached)" 200 -u 'alice:open sesame' "$origin/index.html"
check_curl "UTF-8 user and password with a colon" 200 -u 'böb:päss:wörd' "$origin/index.html"
check_curl "POST /echo with credentials" 200 -u 'alice:open sesame' \
    -H 'Content-Type: application/json' --data '{"a":1}' "$origin/echo"
check_curl "POST /echo without" 401 -H 'Content-Type: application/json' --data '{"a":1}' "$origin/echo"
challenge=$(timeout 30 curl -sS -o /dev/null -D - "$origin/" | tr -d '\r' | grep -i '^www-authenticate:' || true)
want_challenge='WWW-Authenticate: Basic realm="curl \"test\"", charset="UTF-8"'
if [[ $challenge == "$want_challenge" ]]; then
    echo "   ok    challenge: $challenge"
else
    echo "   FAIL  challenge: got '$challenge', want '$want_challenge'"
    failures=$((failures + 1))
fi
kill -0 "$server_pid" 2>/dev/null || fail "the auth server died"
# Failed attempts are on stderr (warn level), never with the password.
logged=$(grep -c 'authentication failed' "$work/auth.err" || true)
if [[ $logged != 2 ]] || grep -q 'sesamE' "$work/auth.err"; then
    echo "   FAIL  stderr: $logged failure lines (want 2), or a password in:"
    sed 's/^/         /' "$work/auth.err"
    failures=$((failures + 1))
else
    echo "   ok    stderr: 2 failed attempts logged, no password"
fi
[[ $failures == 0 ]] || fail "$failures checks failed"
echo "clients test: OK (node, python, curl read refused uploads; curl decodes br, zstd, gzip; curl -u against an htpasswd -B file)"
