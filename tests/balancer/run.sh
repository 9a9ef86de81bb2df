#!/usr/bin/env bash
# Proven with a real balancer (issue 13, item 4): three instances on
# loopback behind HAProxy, health-checked on their admin listener's
# /readyz, under load from wrk for about 20 s while each instance in turn
# is sent SIGTERM, drains, exits and is started again.
#
# Asserts: wrk saw no socket error and no non-2xx response; every instance
# exited 0 on SIGTERM; each instance's /metrics passes `promtool check
# metrics` and its histograms' +Inf buckets equal their _count; and, with
# the PROXY protocol on, every client address:port an instance logged is
# one HAProxy logged for that server.
#
# HAProxy sends `send-proxy-v2` to the instances, which run with
# --proxy-protocol v2 --trusted-proxies 127.0.0.1/32. SEND_PROXY=0 talks
# plain HTTP to them instead, and then skips the address check.
#
# Installs haproxy and wrk from Debian's packages if missing, and takes
# promtool out of Debian's `prometheus` package without installing the
# server (see `ensure_promtool`). Every wait is bounded; everything started
# is stopped by its PID. Exits 0 on success, or non-zero with one line
# "balancer test: FAIL: <reason>".
set -euo pipefail
cd "$(dirname "$0")/../.."

SEND_PROXY=${SEND_PROXY:-1}
LOAD_SECONDS=${LOAD_SECONDS:-20}
# HAProxy checks every 200 ms and marks a server down after 2 failures:
# an instance is out of rotation about 0.4-0.6 s after /readyz turns 503.
# The drain delay is several times that (the README explains the sum).
CHECK_INTER_MS=200
CHECK_FALL=2
CHECK_RISE=2
DRAIN_DELAY=${DRAIN_DELAY:-2}
SHUTDOWN_GRACE=10

fail() {
    echo "balancer test: FAIL: $*" >&2
    exit 1
}

source tests/support/packages.sh

# promtool ships only in Debian's `prometheus` package (19 MB, 96 MB
# installed, with a server daemon and web assets), and no Debian package
# ships promtool alone: the package is downloaded with apt-get and only
# its promtool binary is kept, in a cache directory.
ensure_promtool() {
    if command -v promtool >/dev/null; then
        promtool=$(command -v promtool)
        return
    fi
    local cache=${XDG_CACHE_HOME:-$HOME/.cache}/httpserver-ci
    promtool=$cache/promtool
    [[ -x $promtool ]] && return
    echo "== taking promtool from Debian's prometheus package"
    mkdir -p "$cache"
    local unpack
    unpack=$(mktemp -d)
    (cd "$unpack" && timeout 600 apt-get download prometheus >/dev/null 2>&1) ||
        { timeout 600 apt-get update >/dev/null 2>&1 &&
            (cd "$unpack" && timeout 600 apt-get download prometheus >/dev/null 2>&1); } ||
        fail "cannot download the prometheus package"
    dpkg-deb -x "$unpack"/prometheus_*.deb "$unpack/x" || fail "cannot unpack prometheus"
    cp "$unpack/x/usr/bin/promtool" "$promtool"
    rm -rf "$unpack"
}

ensure haproxy haproxy
ensure wrk wrk
ensure curl curl
ensure_promtool
command -v python3 >/dev/null || fail "'python3' is needed"

source tests/support/server.sh
build_binary

work=$(mktemp -d)
declare -a pids=("" "" "")
haproxy_pid=
wrk_pid=
cleanup() {
    for pid in "${pids[@]}" "$haproxy_pid" "$wrk_pid"; do
        if [[ -n $pid ]]; then
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    rm -rf "$work"
}
trap cleanup EXIT
mkdir "$work/root"
cp -R public/. "$work/root/"
# A page of its own, so that the test does not depend on public/'s content.
printf '<!DOCTYPE html><title>lb</title><p>behind a balancer</p>\n' >"$work/root/lb.html"

# Eight free loopback ports: three sites, three admins, HAProxy's front
# and its stats page.
read -r -a ports <<<"$(python3 -c '
import socket
sockets = [socket.socket() for _ in range(8)]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in sockets))
')"
site=("${ports[@]:0:3}")
admin=("${ports[@]:3:3}")
front=${ports[6]}
stats=${ports[7]}

proxy_flags=()
send_proxy=
if [[ $SEND_PROXY == 1 ]]; then
    proxy_flags=(--proxy-protocol v2 --trusted-proxies 127.0.0.1/32)
    send_proxy=send-proxy-v2
fi

# start_instance I GENERATION: instance I on its fixed ports, logs in
# $work/iI.gG.{out,err}; waits (10 s at most) for its listening line.
start_instance() {
    local i=$1 g=$2 out="$work/i$1.g$2.out"
    "$binary" --bind 127.0.0.1 --port "${site[$i]}" --admin "127.0.0.1:${admin[$i]}" \
        --root "$work/root" --workers 1 --drain-delay "$DRAIN_DELAY" \
        --shutdown-grace "$SHUTDOWN_GRACE" "${proxy_flags[@]}" \
        >"$out" 2>"$work/i$i.g$g.err" &
    pids[i]=$!
    for _ in $(seq 100); do
        if head -n1 "$out" 2>/dev/null | grep -q '^Server listening on :'; then
            return
        fi
        kill -0 "${pids[$i]}" 2>/dev/null ||
            fail "instance $i exited at start: $(head -n1 "$work/i$i.g$g.err")"
        sleep 0.1
    done
    fail "instance $i did not print its listening line within 10 s"
}

for i in 0 1 2; do
    start_instance "$i" 0
done
echo "== instances on ${site[*]} (admin ${admin[*]})"

cat >"$work/haproxy.cfg" <<CFG
global
    maxconn 2000
    log stdout format raw local0

defaults
    mode http
    log global
    # The client's address and port as HAProxy saw them, and the server.
    log-format "%ci:%cp %b/%s %ST"
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    # Only a failed connect is retried (HAProxy's default), on another
    # server: no retry of a request the server may have seen, so a server
    # that closes a connection with a request in flight fails the test.
    retries 3
    option redispatch 1

frontend front
    bind 127.0.0.1:$front
    default_backend instances

backend instances
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    # Checks go to the admin port, which never takes a PROXY header
    # (HAProxy sends none to a check with its own port).
    default-server inter ${CHECK_INTER_MS}ms fall $CHECK_FALL rise $CHECK_RISE $send_proxy
    server i0 127.0.0.1:${site[0]} check port ${admin[0]}
    server i1 127.0.0.1:${site[1]} check port ${admin[1]}
    server i2 127.0.0.1:${site[2]} check port ${admin[2]}

listen stats
    bind 127.0.0.1:$stats
    stats enable
    stats uri /stats
CFG
haproxy -c -q -f "$work/haproxy.cfg" || fail "haproxy rejects its configuration"
haproxy -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>"$work/haproxy.err" &
haproxy_pid=$!

# What HAProxy thinks of instance I: UP, DOWN, "UP 1/2", ...
server_status() {
    timeout 5 curl -fsS "http://127.0.0.1:$stats/stats;csv" 2>/dev/null |
        awk -F, -v name="i$1" '$1 == "instances" && $2 == name { print $18 }'
}
await_status() { # I STATUS
    for _ in $(seq 200); do
        [[ $(server_status "$1") == "$2" ]] && return
        sleep 0.05
    done
    fail "HAProxy did not see instance $1 $2 within 10 s (it says '$(server_status "$1")')"
}
for i in 0 1 2; do
    await_status "$i" UP
done
echo "== HAProxy on $front sees all three UP"

timeout $((LOAD_SECONDS + 30)) wrk -t2 -c16 -d"${LOAD_SECONDS}s" -s tests/support/wrk_count.lua \
    "http://127.0.0.1:$front/lb.html" >"$work/wrk.out" 2>&1 &
wrk_pid=$!
echo "== wrk: 16 connections for ${LOAD_SECONDS} s through HAProxy"
sleep 2

# Restart each instance in turn while the load runs: SIGTERM, the drain
# (HAProxy marks it DOWN), exit 0, start again, wait for HAProxy to see it
# UP before the next one.
for i in 0 1 2; do
    kill -TERM "${pids[$i]}"
    await_status "$i" DOWN
    for _ in $(seq $(((DRAIN_DELAY + SHUTDOWN_GRACE + 5) * 10))); do
        kill -0 "${pids[$i]}" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "${pids[$i]}" 2>/dev/null && fail "instance $i did not exit after SIGTERM"
    code=0
    wait "${pids[$i]}" || code=$?
    pids[i]=
    [[ $code == 0 ]] || fail "instance $i exited $code after SIGTERM: $(cat "$work/i$i.g0.err")"
    [[ -s $work/i$i.g0.err ]] && fail "instance $i wrote to stderr: $(cat "$work/i$i.g0.err")"
    echo "   instance $i: SIGTERM, DOWN in HAProxy, drained, exited 0"
    start_instance "$i" 1
    await_status "$i" UP
    echo "   instance $i: started again, UP in HAProxy"
done
kill -0 "$wrk_pid" 2>/dev/null || fail "the restarts outlasted the load; raise LOAD_SECONDS"

# Every instance's metrics, scraped under load, pass promtool, and each
# histogram's +Inf bucket equals its count.
for i in 0 1 2; do
    timeout 5 curl -fsS "http://127.0.0.1:${admin[$i]}/metrics" >"$work/metrics.$i" ||
        fail "no /metrics from instance $i"
    "$promtool" check metrics <"$work/metrics.$i" >"$work/promtool.$i" 2>&1 ||
        fail "promtool on instance $i: $(cat "$work/promtool.$i")"
    for family in httpserver_http_request_duration_seconds httpserver_http_response_size_bytes; do
        inf=$(awk -v f="${family}_bucket{le=\"+Inf\"}" '$1 == f { print $2 }' "$work/metrics.$i")
        count=$(awk -v f="${family}_count" '$1 == f { print $2 }' "$work/metrics.$i")
        [[ -n $inf && $inf == "$count" ]] ||
            fail "instance $i: $family +Inf '$inf' but _count '$count'"
    done
    grep -q '^httpserver_http_requests_total{method="GET",code="200"} [1-9]' "$work/metrics.$i" ||
        fail "instance $i counted no GET 200 since its restart"
done
echo "== promtool check metrics: clean on all three; +Inf = _count"

code=0
wait "$wrk_pid" || code=$?
wrk_pid=
[[ $code == 0 ]] || fail "wrk exited $code: $(tail -n3 "$work/wrk.out")"
result=$(grep '^RESULT ' "$work/wrk.out") || fail "wrk printed no result: $(cat "$work/wrk.out")"
echo "== wrk: $result"
requests=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$result")
[[ $requests -ge 1000 ]] || fail "only $requests requests were made"
for counter in connect read write status timeout non2xx; do
    value=$(sed -n "s/.* $counter=\([0-9]*\).*/\1/p" <<<"$result")
    [[ $value == 0 ]] || fail "$counter=$value at the client ($result)"
done

if [[ $SEND_PROXY == 1 ]]; then
    # Each instance logged the clients HAProxy saw, not HAProxy itself.
    for i in 0 1 2; do
        awk -v s="instances/i$i" '$2 == s { print $1 }' "$work/haproxy.log" |
            sort -u >"$work/seen.$i"
        cat "$work"/i$i.g*.out | awk '/^\[/ { print $3 }' | sort -u >"$work/logged.$i"
        [[ -s $work/logged.$i ]] || fail "instance $i logged no request"
        strays=$(comm -23 "$work/logged.$i" "$work/seen.$i" | head -n3)
        [[ -z $strays ]] ||
            fail "instance $i logged addresses HAProxy did not see for it: $strays"
    done
    echo "== PROXY v2: every address:port the instances logged is a client HAProxy saw"
else
    echo "== PROXY v2 off (SEND_PROXY=0): client addresses not checked"
fi
echo "balancer test: OK ($requests requests, 0 failed, 0 non-2xx; 3 restarts, each exit 0)"
