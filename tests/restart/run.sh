#!/usr/bin/env bash
# Restart, upgrade and reconfigure in place under load (issue 17, item 3).
#
# 1. Upgrades: the server runs from a symlink with --config and
#    --pid-file while two wrk clients load it for LOAD_SECONDS (one on
#    keep-alive, one with `Connection: close`, a connection per request).
#    SIGUSR2 is sent ten times: once after changing the configuration file
#    (the new -H field must be served afterwards), once with a broken one
#    (the attempt must be logged and the old process must serve on).
#    Asserts: no socket error and no non-2xx at either client, nine
#    handovers and one failure logged, exactly one server process at the
#    end, which the pid file names and which stops on SIGTERM, removing it.
# 2. Socket activation: systemd-socket-activate (Debian's `systemd`
#    package) makes the socket and execs a supervisor that holds it, as the
#    socket unit does under systemd, and starts the server with LISTEN_PID
#    set to the server's pid. Under the same two loads: one upgrade, then a
#    stop (SIGTERM) and a start half a second later. Asserts: no socket
#    error (a refused connection would be one) and no non-2xx: connections
#    wait in the socket's queue while no server runs.
#
# 0. Before both: the units in deploy/ pass `systemd-analyze verify`.
#
# Installs wrk, curl and systemd from Debian's packages if missing. Every
# wait is bounded; everything started is stopped by its pid. Exits 0 on
# success, or non-zero with one line "restart test: FAIL: <reason>".
set -euo pipefail
cd "$(dirname "$0")/../.."

LOAD_SECONDS=${LOAD_SECONDS:-30}
ACTIVATED_SECONDS=${ACTIVATED_SECONDS:-12}
UPGRADES=10
CHANGED_AT=4 # the upgrade that follows a configuration change
BROKEN_AT=7  # the upgrade tried with a broken configuration
DRAIN_DELAY=1
SHUTDOWN_GRACE=10

fail() {
    echo "restart test: FAIL: $*" >&2
    exit 1
}

source tests/support/packages.sh
ensure wrk wrk
ensure curl curl
ensure systemd-socket-activate systemd
ensure systemd-analyze systemd
command -v python3 >/dev/null || fail "'python3' is needed"

source tests/support/server.sh
build_binary

work=$(mktemp -d)
started=() # pids this script started (wrk, the first server, the supervisor)
# Every server process of this run, alive or not: the first one's
# successors are not our children, so they are found by the pid-file path
# their command line carries.
our_servers() { # PID_FILE
    local pid
    for pid in $(ls /proc | grep -E '^[0-9]+$'); do
        if { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qF -- "--pid-file $1 " &&
            ! grep -q ') Z ' "/proc/$pid/stat" 2>/dev/null; then
            echo "$pid"
        fi
    done
}
cleanup() {
    local pid
    for pid in "${started[@]}" $(our_servers "$work/pid") $(our_servers "$work/pid2"); do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${started[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

mkdir "$work/root"
printf '<!DOCTYPE html><title>r</title><p>restarted in place</p>\n' >"$work/root/page.html"
read -r port port2 <<<"$(python3 -c '
import socket
sockets = [socket.socket() for _ in range(2)]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in sockets))
')"


# start_load NAME PORT SECONDS: the two clients, in the background.
start_load() {
    timeout $(($3 + 30)) wrk -t1 -c8 -d"$3s" -s tests/support/wrk_count.lua \
        "http://127.0.0.1:$2/page.html" >"$work/$1.keepalive.out" 2>&1 &
    started+=($!)
    load_pids=($!)
    timeout $(($3 + 30)) wrk -t1 -c4 -d"$3s" -H 'Connection: close' -s tests/support/wrk_count.lua \
        "http://127.0.0.1:$2/page.html" >"$work/$1.close.out" 2>&1 &
    started+=($!)
    load_pids+=($!)
}

# check_load NAME: wait for both clients, then zero errors and non-2xx.
check_load() {
    local pid kind result value counter
    for pid in "${load_pids[@]}"; do
        wait "$pid" || fail "wrk exited non-zero: $(tail -n3 "$work/$1".*.out)"
    done
    for kind in keepalive close; do
        result=$(grep '^RESULT ' "$work/$1.$kind.out") ||
            fail "$1: wrk ($kind) printed no result: $(cat "$work/$1.$kind.out")"
        echo "   wrk $kind: $result"
        value=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$result")
        [[ $value -ge 500 ]] || fail "$1: only $value requests ($kind)"
        for counter in connect read write status timeout non2xx; do
            value=$(sed -n "s/.* $counter=\([0-9]*\).*/\1/p" <<<"$result")
            [[ $value == 0 ]] || fail "$1: $counter=$value at the $kind client ($result)"
        done
    done
}

# await_pid_change FILE OLD: the pid FILE names once it no longer names OLD
# (15 s at most).
await_pid_change() {
    local now
    for _ in $(seq 300); do
        now=$(cat "$1" 2>/dev/null || true)
        if [[ -n $now && $now != "$2" ]]; then
            echo "$now"
            return
        fi
        sleep 0.05
    done
    fail "the pid file still names $2 15 s after SIGUSR2: $(tail -n3 "$work/server.err")"
}

# await_count FILE PATTERN N: until FILE has N lines matching (15 s at most).
await_count() {
    for _ in $(seq 300); do
        [[ $(grep -c -- "$2" "$1" || true) -ge $3 ]] && return
        sleep 0.05
    done
    fail "no $3 lines '$2' in $1 within 15 s: $(tail -n3 "$1")"
}

# await_one_server PID_FILE: until exactly one server of this run is left
# (the old ones drain: DRAIN_DELAY + SHUTDOWN_GRACE + 5 s at most); it must
# be the one the pid file names.
await_one_server() {
    local servers
    for _ in $(seq $(((DRAIN_DELAY + SHUTDOWN_GRACE + 5) * 10))); do
        servers=$(our_servers "$1")
        [[ $(wc -w <<<"$servers") == 1 ]] && break
        sleep 0.1
    done
    [[ $(wc -w <<<"$servers") == 1 ]] || fail "server processes left: $servers"
    [[ $servers == "$(cat "$1")" ]] || fail "the one server left, $servers, is not the pid file's"
}

echo "== 0. systemd-analyze verify deploy/httpserver.socket deploy/httpserver.service"
# With ExecStart= pointed at the binary just built (verify checks that the
# executable exists; the units name /usr/local/bin/httpserver).
mkdir "$work/units"
cp deploy/httpserver.socket "$work/units/"
sed "s#/usr/local/bin/httpserver#$binary#" deploy/httpserver.service >"$work/units/httpserver.service"
(cd "$work/units" && timeout 60 systemd-analyze verify ./httpserver.socket ./httpserver.service) \
    >"$work/verify.out" 2>&1 || fail "systemd-analyze verify: $(head -n3 "$work/verify.out")"
[[ -s $work/verify.out ]] && fail "systemd-analyze verify warns: $(head -n3 "$work/verify.out")"

echo "== 1. upgrades: $UPGRADES x SIGUSR2 under two wrk loads for ${LOAD_SECONDS} s"
config=$work/httpserver.toml
printf 'header = ["X-Config: 1"]\n' >"$config"
ln -s "$binary" "$work/httpserver"
"$work/httpserver" --config "$config" --bind 127.0.0.1 --port "$port" --root "$work/root" \
    --workers 2 --drain-delay "$DRAIN_DELAY" --shutdown-grace "$SHUTDOWN_GRACE" \
    --pid-file "$work/pid" --access-log off >"$work/server.out" 2>"$work/server.err" &
first=$!
started+=($first)
for _ in $(seq 100); do
    [[ -s $work/pid ]] && break
    kill -0 "$first" 2>/dev/null || fail "the server exited at start: $(cat "$work/server.err")"
    sleep 0.1
done
[[ $(cat "$work/pid") == "$first" ]] || fail "the pid file does not name the server"

start_load upgrades "$port" "$LOAD_SECONDS"
sleep 2
for n in $(seq "$UPGRADES"); do
    current=$(cat "$work/pid")
    if [[ $n == "$CHANGED_AT" ]]; then
        printf 'header = ["X-Config: 2"]\n' >"$config"
    fi
    if [[ $n == "$BROKEN_AT" ]]; then
        printf 'header = ["X-Config: 2"]\ncache = "sometimes"\n' >"$config"
        kill -USR2 "$current"
        await_count "$work/server.err" 'upgrade failed: the new process exited with status 2' 1
        [[ $(cat "$work/pid") == "$current" ]] || fail "a failed upgrade moved the pid file"
        kill -0 "$current" 2>/dev/null || fail "the old process did not survive a broken config"
        printf 'header = ["X-Config: 2"]\n' >"$config"
        echo "   SIGUSR2 $n: broken config; pid $current serves on, the failure logged"
    else
        kill -USR2 "$current"
        next=$(await_pid_change "$work/pid" "$current")
        echo "   SIGUSR2 $n: pid $current -> $next"
    fi
    if [[ $n == "$CHANGED_AT" ]]; then
        field=$(timeout 5 curl -fsS -o /dev/null -D - "http://127.0.0.1:$port/page.html" |
            tr -d '\r' | sed -n 's/^X-Config: //p')
        [[ $field == 2 ]] || fail "after the config change the new field is '$field', not 2"
        echo "   the changed configuration is served (X-Config: 2)"
    fi
    sleep 2
done
for pid in "${load_pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || fail "the upgrades outlasted the load; raise LOAD_SECONDS"
done
check_load upgrades
handovers=$(grep -c 'httpserver: upgraded: pid' "$work/server.err" || true)
[[ $handovers == $((UPGRADES - 1)) ]] || fail "$handovers handovers logged, not $((UPGRADES - 1))"
code=0
wait "$first" || code=$?
[[ $code == 0 ]] || fail "the first server exited $code after its handover"
await_one_server "$work/pid"
last=$(cat "$work/pid")
echo "   $handovers handovers, 1 failure logged; one server left (pid $last, the pid file's)"
kill -TERM "$last"
for _ in $(seq $(((SHUTDOWN_GRACE + 5) * 10))); do
    [[ -z $(our_servers "$work/pid") ]] && break
    sleep 0.1
done
[[ -z $(our_servers "$work/pid") ]] || fail "pid $last did not stop on SIGTERM"
[[ ! -e $work/pid ]] || fail "the pid file outlived the server"

echo "== 2. socket activation: upgrade, stop and start under load for ${ACTIVATED_SECONDS} s"
# The supervisor holds the socket systemd-socket-activate made (as
# systemd's socket unit does) and starts the server on it, LISTEN_PID set
# to the server's own pid; on the file `restart` it stops the server
# (SIGTERM to the pid the pid file names: an upgrade may have replaced it)
# and starts one half a second later; on `stop` it stops it and exits.
cat >"$work/supervise.sh" <<SUPERVISE
#!/usr/bin/env bash
set -u
start() {
    ( export LISTEN_PID=\$BASHPID; exec "$binary" --root "$work/root" --workers 2 \
        --drain-delay $DRAIN_DELAY --shutdown-grace $SHUTDOWN_GRACE --pid-file "$work/pid2" \
        --access-log off >>"$work/activated.out" 2>>"$work/activated.err" ) &
}
stop() {
    local pid=\$(cat "$work/pid2")
    kill -TERM "\$pid"
    for _ in \$(seq $(((SHUTDOWN_GRACE + 5) * 10))); do
        [[ -e /proc/\$pid ]] && ! grep -q ') Z ' /proc/\$pid/stat 2>/dev/null || return 0
        sleep 0.1
    done
    echo "supervisor: pid \$pid did not stop" >>"$work/activated.err"
}
start
for request in restart stop; do
    for _ in \$(seq 600); do
        [[ -e "$work/\$request" ]] && break
        sleep 0.1
    done
    stop
    [[ \$request == restart ]] && { sleep 0.5; start; }
done
wait
SUPERVISE
chmod +x "$work/supervise.sh"
# systemd-socket-activate execs the supervisor at the first connection.
systemd-socket-activate -l "127.0.0.1:$port2" --fdname=http "$work/supervise.sh" \
    >"$work/activate.out" 2>"$work/activate.err" &
supervisor=$!
started+=($supervisor)
for _ in $(seq 100); do
    grep -q "Listening on 127.0.0.1:$port2" "$work/activate.err" 2>/dev/null && break
    sleep 0.1
done
start_load activated "$port2" "$ACTIVATED_SECONDS"
for _ in $(seq 100); do
    [[ -s $work/pid2 ]] && break
    sleep 0.1
done
[[ -s $work/pid2 ]] || fail "the activated server did not start: $(cat "$work/activated.err")"
grep -q -- '--port and --bind are not used' "$work/activated.err" ||
    fail "the activated server did not say it uses the passed socket: $(cat "$work/activated.err")"
sleep 2
current=$(cat "$work/pid2")
kill -USR2 "$current"
next=$(await_pid_change "$work/pid2" "$current")
echo "   SIGUSR2 on the passed socket: pid $current -> $next"
sleep 2
touch "$work/restart"
after=$(await_pid_change "$work/pid2" "$next")
echo "   stop (SIGTERM to $next) and start half a second later: pid $after"
for pid in "${load_pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || fail "the restarts outlasted the load; raise ACTIVATED_SECONDS"
done
check_load activated
touch "$work/stop"
code=0
for _ in $(seq $(((SHUTDOWN_GRACE + 10) * 10))); do
    kill -0 "$supervisor" 2>/dev/null || break
    sleep 0.1
done
wait "$supervisor" || code=$?
[[ $code == 0 ]] || fail "the supervisor exited $code: $(tail -n3 "$work/activated.err")"
if grep -v -e '^httpserver: listening on the sockets systemd passed' \
    -e '^httpserver: SIGUSR2: upgrading' -e '^httpserver: upgraded: pid' \
    "$work/activated.err" >"$work/unexpected.err"; then
    fail "unexpected stderr under socket activation: $(head -n3 "$work/unexpected.err")"
fi
echo "restart test: OK (upgrades: $handovers handovers and 1 refused under load; socket activation: upgrade, stop and start; 0 socket errors, 0 non-2xx)"
