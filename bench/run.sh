#!/usr/bin/env bash
# Load benchmark: httpserver against nginx, lighttpd and h2o (and Go's
# net/http for POST /echo), on one machine, each server pinned to core 0 with
# one worker and an access log, the load generator pinned to core 1.
# Servers are alternated round by round, each round starting one server
# later (A B C D, B C D A, ...), so that drift in the machine (other jobs,
# thermal, page cache) and the place in a round hit them all alike; the
# report gives medians, ratios to nginx and to the best peer, p99 latency,
# server CPU time per request (from /proc/PID/stat) and a PNG chart.
#
# Needs (Debian packages; nothing is installed unless you pass --install):
#   wrk nginx lighttpd h2o      the load generator and the peers
#   caddy lighttpd-mod-deflate  the compression scenarios' peers (js64k, html16k)
#   golang-go                   optional: the Go echo peer for POST /echo
#   gnuplot-nox                 optional: the chart (bench/results/chart.png)
#   util-linux (taskset), python3, cargo
#
# Usage: bench/run.sh [--quick] [--rounds N] [--seconds S] [--only a,b,...]
#                     [--servers a,b,...] [--idle-connections N] [--install]
#   --quick      1 round of 2 s per scenario, 2,000 idle connections
#   --rounds N   rounds per scenario (default 3); the median is reported
#   --seconds S  length of one round in seconds (default 5)
#   --only LIST  scenarios to run, by name (default: all; names below)
#   --servers L  subset of httpserver,httpauth,nginx,lighttpd,h2o,go,caddy,main
#   --main PATH  another httpserver binary (e.g. main's) run as server "main"
#                beside this one, for an A/B in the same run
#   --install    apt-get install the missing packages above first (asks apt)
#   --tls        every server speaks HTTPS (same ECDSA P-256 certificate,
#                made here by openssl; TLS 1.2 and 1.3, session tickets and
#                caches on, no kernel TLS anywhere) and the HTTPS scenarios
#                run instead (lighttpd needs lighttpd-mod-openssl)
# Environment: BENCH_DIR (fixtures, configs, logs; default a tmpfs dir),
#              RESULTS (default bench/results).
#
# Scenarios: small browser css browsercss conns1000 close file1m file100m
#            files10k notfound pipelined echo idle
#   browser and browsercss send what Chromium sends for a page and for a
#   stylesheet (Accept, Accept-Encoding: gzip, deflate, br, zstd,
#   Accept-Language, User-Agent, Sec-Fetch-*, a cookie), to compare with
#   small (index.html) and css (a 4 KiB stylesheet) sent by wrk alone.
#   auth is small with an Authorization: Basic field, sent to httpserver
#   (no --auth: the field is ignored) and to httpauth (httpserver with
#   --auth over an htpasswd -B file, the credential cached after its first
#   bcrypt check): what authentication costs a request.
#   js64k and html16k (issue 16) fetch a 64 KiB script and a 16 KiB page
#   with Accept-Encoding: gzip, deflate, br, zstd from servers that
#   compress: nginx (gzip on, its default level 1), h2o (compress: ON),
#   lighttpd (mod_deflate with deflate.cache-dir), Caddy (encode zstd gzip)
#   and httpserver (its variant cache, upgraded after a warm-up of 40
#   requests and 3 s idle); they report bytes per response too. Peers
#   compress only under /z/, so the other scenarios are unchanged.
# HTTPS scenarios (--tls): tls_small tls_full tls_resumed tls_file1m
#            tls_file100m
#   tls_small is small over TLS (wrk, 64 keep-alive connections);
#   tls_full and tls_resumed are a new TLS connection per request, each
#   a GET of index.html, by 4 `openssl s_time` clients (-new: full
#   handshakes; -reuse: resumed); the files are fetched by wrk (16 and 4
#   connections), so the client's decryption is on core 1 as for every
#   server.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
ROUNDS=3
SECONDS_PER_ROUND=5
IDLE_CONNECTIONS=9000
ONLY=""
SERVERS_WANTED="httpserver,httpauth,nginx,lighttpd,h2o,go,caddy,main"
MAIN_BINARY=""
INSTALL=0
ALL_SCENARIOS="small browser css browsercss conns1000 close file1m file100m files10k notfound pipelined echo auth js64k html16k idle"
TLS=0
TLS_SCENARIOS="tls_small tls_full tls_resumed tls_file1m tls_file100m"

while [ $# -gt 0 ]; do
    case "$1" in
        --quick) ROUNDS=1; SECONDS_PER_ROUND=2; IDLE_CONNECTIONS=2000 ;;
        --rounds) ROUNDS="$2"; shift ;;
        --seconds) SECONDS_PER_ROUND="$2"; shift ;;
        --only) ONLY="$2"; shift ;;
        --servers) SERVERS_WANTED="$2"; shift ;;
        --main) MAIN_BINARY="$2"; shift ;;
        --idle-connections) IDLE_CONNECTIONS="$2"; shift ;;
        --install) INSTALL=1 ;;
        --tls) TLS=1 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

# HTTPS: the TLS scenarios, and no Go peer (its echo has no TLS here).
if [ "$TLS" = 1 ]; then
    ALL_SCENARIOS="$TLS_SCENARIOS"
    SERVERS_WANTED="${SERVERS_WANTED/,go/}"
fi

# --- what is needed ---------------------------------------------------------
if [ "$INSTALL" = 1 ]; then
    missing=""
    for pair in wrk:wrk nginx:nginx lighttpd:lighttpd h2o:h2o go:golang-go gnuplot:gnuplot-nox; do
        command -v "${pair%%:*}" >/dev/null 2>&1 || missing="$missing ${pair#*:}"
    done
    # lighttpd's compression is a package of its own (js64k, html16k).
    [ -e /usr/lib/lighttpd/mod_deflate.so ] || missing="$missing lighttpd-mod-deflate"
    if [ -n "$missing" ]; then
        echo "== installing:$missing (apt-get, as you asked with --install)"
        apt-get install -y --no-install-recommends $missing
    fi
fi
for tool in wrk nginx lighttpd h2o taskset python3 cargo; do
    if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ]; then
        echo "run.sh: '$tool' is needed; on Debian: apt-get install wrk nginx lighttpd h2o" \
             "(or rerun with --install)" >&2
        exit 1
    fi
done
if [ ! -e /usr/lib/lighttpd/mod_deflate.so ]; then
    echo "run.sh: lighttpd's mod_deflate is needed; on Debian: apt-get install lighttpd-mod-deflate" \
         "(or rerun with --install)" >&2
    exit 1
fi
export PATH="$PATH:/usr/sbin"
HAVE_GO=0; command -v go >/dev/null 2>&1 && HAVE_GO=1
HAVE_CADDY=0; command -v caddy >/dev/null 2>&1 && HAVE_CADDY=1
[ "$HAVE_CADDY" = 1 ] || echo "note: no 'caddy' (Debian caddy): the compression scenarios run without it"
HAVE_GNUPLOT=0; command -v gnuplot >/dev/null 2>&1 && HAVE_GNUPLOT=1
[ "$HAVE_GO" = 1 ] || echo "note: no 'go' (Debian golang-go): POST /echo runs without its Go peer"
[ "$HAVE_GNUPLOT" = 1 ] || echo "note: no 'gnuplot' (Debian gnuplot-nox): no chart"

# Every server and client needs a descriptor per connection.
ulimit -n "$(ulimit -Hn)"

if [ -z "${BENCH_DIR:-}" ]; then
    if [ -d /dev/shm ]; then BENCH_DIR=/dev/shm/httpserver-bench; else BENCH_DIR=/tmp/httpserver-bench; fi
fi
RESULTS="${RESULTS:-$HERE/results}"
ROOT="$BENCH_DIR/root"
LOGS="$BENCH_DIR/logs"
RAW="$BENCH_DIR/raw"
mkdir -p "$ROOT" "$LOGS" "$RAW" "$RESULTS" "$BENCH_DIR/conf"
rm -f "$RAW"/* "$LOGS"/*

# --- build ------------------------------------------------------------------
echo "== building httpserver and the bench client (release)"
(cd "$REPO" && cargo build --release --quiet --bin httpserver --example bench_client)
TARGET="${CARGO_TARGET_DIR:-$REPO/target}"
case "$TARGET" in /*) ;; *) TARGET="$REPO/$TARGET" ;; esac
HTTPSERVER="$TARGET/release/httpserver"
CLIENT="$TARGET/release/examples/bench_client"
if [ "$HAVE_GO" = 1 ]; then
    echo "== building the Go echo peer"
    GOCACHE="$BENCH_DIR/gocache" GO111MODULE=off go build -o "$BENCH_DIR/go-echo" "$HERE/echo.go"
fi

# --- fixtures ---------------------------------------------------------------
echo "== fixture root in $ROOT"
python3 - "$ROOT" <<'EOF'
import os, sys
root = sys.argv[1]
index = b"<!doctype html>\n<html><head><title>bench</title></head>\n<body><p>Hello from the benchmark fixture.</p><p>156 bytes exactly.</p></body></html>\n"
index = index[:155].ljust(155, b" ") + b"\n"
assert len(index) == 156
def put(name, data):
    path = os.path.join(root, name)
    if os.path.exists(path) and os.path.getsize(path) == len(data):
        return
    with open(path, "wb") as f:
        f.write(data)
put("index.html", index)
rule = b"body > main .card:hover { color: #223344; background: #fafafa; margin: 0 auto; }\n"
put("style.css", (rule * (4096 // len(rule) + 1))[:4095] + b"\n")
for name, size in (("1m.bin", 1 << 20), ("100m.bin", 100 << 20)):
    path = os.path.join(root, name)
    if not (os.path.exists(path) and os.path.getsize(path) == size):
        with open(path, "wb") as f:
            f.write(os.urandom(size))
# Issue 16: a 64 KiB script and a 16 KiB page, text as sites ship it
# (seeded, so every run and server gets the same bytes), under /z/, the
# only place peers compress. An hour old: settled for httpserver.
import random, time
rng = random.Random(16)
words = ("data value item list index count user name state event handler render update "
         "element node child parent style class attribute request response buffer offset").split()
def ident():
    return rng.choice(words) + rng.choice(words).capitalize() + str(rng.randrange(100))
js = bytearray(b"'use strict';\n")
while len(js) < 65536:
    a, b, c = ident(), ident(), ident()
    js += (f"export function {a}({b}, {c}) {{\n  const {ident()} = {b}.{rng.choice(words)}"
           f"({c}, {rng.randrange(1000)});\n  if ({b}.length > {rng.randrange(64)}) "
           f"{{ return {c}.{rng.choice(words)}({b}); }}\n  return {a}.{rng.choice(words)} ?? null;\n}}\n").encode()
html = bytearray(b"<!doctype html>\n<html lang=en><head><meta charset=utf-8><title>bench</title>"
                 b"<link rel=stylesheet href=/style.css></head>\n<body><main>\n")
while len(html) < 16384:
    sentence = " ".join(rng.choice(words) for _ in range(rng.randrange(8, 20)))
    html += (f'<section class="{rng.choice(words)}"><h2>{ident()}</h2><p>{sentence}.</p>'
             f'<a href="/{rng.choice(words)}/{rng.randrange(999)}">{rng.choice(words)}</a></section>\n').encode()
os.makedirs(os.path.join(root, "z"), exist_ok=True)
put("z/app.js", bytes(js[:65535]) + b"\n")
put("z/page.html", bytes(html[:16384 - 16]) + b"</main></body>\n")
for name in ("z/app.js", "z/page.html"):
    path = os.path.join(root, name)
    if os.path.getmtime(path) > time.time() - 3600:
        os.utime(path, (time.time() - 3600, time.time() - 3600))
os.makedirs(os.path.join(root, "small"), exist_ok=True)
for i in range(10000):
    put(f"small/{i:04d}.html", b"<p>small file %04d</p>\n" % i * 4)
EOF

# --- the certificate (--tls) ------------------------------------------------
SCHEME=http
CERT="$BENCH_DIR/conf/cert.pem"
KEY="$BENCH_DIR/conf/key.pem"
if [ "$TLS" = 1 ]; then
    SCHEME=https
    if [ ! -s "$CERT" ]; then
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -keyout "$KEY" -out "$CERT" -days 30 -subj /CN=localhost \
            -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
    fi
    echo "== HTTPS with one ECDSA P-256 certificate: $CERT"
fi

# --- ports and configs ------------------------------------------------------
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
declare -A PORT PID
for s in httpserver httpauth nginx lighttpd h2o go caddy main; do PORT[$s]=$(free_port); done

# httpauth's one user: `htpasswd -nbB bench bench-password` (apache2-utils
# 2.4; cost 5, its default).
echo 'bench:$2y$05$xhfnr7XI3ip/HMod34AAQeRkT/yIh4K/B.oAIDAkoXPK1mz4jdHje' >"$BENCH_DIR/conf/htpasswd"
AUTHORIZATION="Authorization: Basic $(printf '%s' 'bench:bench-password' | base64)"

cat > "$BENCH_DIR/conf/nginx.conf" <<EOF
worker_processes 1;
worker_rlimit_nofile 19000;
daemon off;
pid $BENCH_DIR/conf/nginx.pid;
error_log $LOGS/nginx-error.log warn;
events { worker_connections 16000; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log $LOGS/nginx-access.log combined buffer=64k flush=1s;
    # Otherwise every 404 also writes an error-log line, unbuffered: a cost
    # no other server here pays.
    log_not_found off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 60s;
    keepalive_requests 1000000;
    client_body_temp_path $BENCH_DIR/conf/nginx-body;
    proxy_temp_path $BENCH_DIR/conf/nginx-proxy;
    fastcgi_temp_path $BENCH_DIR/conf/nginx-fastcgi;
    uwsgi_temp_path $BENCH_DIR/conf/nginx-uwsgi;
    scgi_temp_path $BENCH_DIR/conf/nginx-scgi;
    server {
        listen 127.0.0.1:${PORT[nginx]} backlog=4096$( [ "$TLS" = 1 ] && echo " ssl");
        root $ROOT;
        # Issue 16: compression only here, at nginx's default level (1).
        location /z/ {
            gzip on;
            gzip_types text/html text/css application/javascript text/javascript;
        }
$( [ "$TLS" = 1 ] && printf '        %s\n' "ssl_certificate $CERT;" "ssl_certificate_key $KEY;" \
    "ssl_protocols TLSv1.2 TLSv1.3;" "ssl_session_cache shared:SSL:10m;" "ssl_session_tickets on;")
    }
}
EOF

cat > "$BENCH_DIR/conf/lighttpd.conf" <<EOF
server.document-root = "$ROOT"
server.bind = "127.0.0.1"
server.port = ${PORT[lighttpd]}
server.errorlog = "$LOGS/lighttpd-error.log"
server.max-fds = 19000
server.max-connections = 9500
server.max-keep-alive-requests = 65535
server.max-keep-alive-idle = 60
server.listen-backlog = 4096
server.modules = ( "mod_accesslog", "mod_deflate" )
accesslog.filename = "$LOGS/lighttpd-access.log"
index-file.names = ( "index.html" )
mimetype.assign = ( ".html" => "text/html", ".css" => "text/css", ".js" => "text/javascript", ".bin" => "application/octet-stream" )
# Issue 16: compression only under /z/, cached on disk (lighttpd's way).
\$HTTP["url"] =~ "^/z/" {
    deflate.mimetypes = ( "text/html", "text/javascript" )
    deflate.allowed-encodings = ( "br", "zstd", "gzip", "deflate" )
    deflate.cache-dir = "$BENCH_DIR/conf/lighttpd-deflate-cache"
}
EOF
if [ "$TLS" = 1 ]; then
    cat >> "$BENCH_DIR/conf/lighttpd.conf" <<EOF
server.modules += ( "mod_openssl" )
ssl.engine = "enable"
ssl.pemfile = "$CERT"
ssl.privkey = "$KEY"
ssl.openssl.ssl-conf-cmd = ( "MinProtocol" => "TLSv1.2" )
EOF
fi

cat > "$BENCH_DIR/conf/h2o.conf" <<EOF
listen:
  host: 127.0.0.1
  port: ${PORT[h2o]}$( [ "$TLS" = 1 ] && printf '\n  ssl:\n    certificate-file: %s\n    key-file: %s\n    minimum-version: TLSv1.2' "$CERT" "$KEY")
num-threads: 1
max-connections: 12000
http1-request-timeout: 60
user: root
error-log: $LOGS/h2o-error.log
access-log: $LOGS/h2o-access.log
hosts:
  default:
    paths:
      /z:
        file.dir: $ROOT/z
        compress: ON
      /:
        file.dir: $ROOT
EOF

mkdir -p "$BENCH_DIR/conf/lighttpd-deflate-cache"
cat > "$BENCH_DIR/conf/Caddyfile" <<EOF
{
    admin off
    auto_https off
}
http://127.0.0.1:${PORT[caddy]} {
    root * $ROOT
    log {
        output file $LOGS/caddy-access.log
    }
    encode zstd gzip
    file_server
}
EOF

# --- start and stop ---------------------------------------------------------
cleanup() {
    for s in "${!PID[@]}"; do
        kill "${PID[$s]}" 2>/dev/null || true
    done
    for s in "${!PID[@]}"; do
        wait "${PID[$s]}" 2>/dev/null || true
    done
}
trap cleanup EXIT INT TERM

start_server() {
    local s=$1
    case "$s" in
        httpserver)
            taskset -c 0 "$HTTPSERVER" --bind 127.0.0.1 --port "${PORT[$s]}" --root "$ROOT" \
                --workers 1 --max-connections 12000 --idle-timeout 60 \
                $( [ "$TLS" = 1 ] && echo "--tls-cert $CERT --tls-key $KEY") \
                >"$LOGS/httpserver-access.log" 2>"$LOGS/httpserver-error.log" & ;;
        httpauth)
            taskset -c 0 "$HTTPSERVER" --bind 127.0.0.1 --port "${PORT[$s]}" --root "$ROOT" \
                --workers 1 --max-connections 12000 --idle-timeout 60 \
                --auth "$BENCH_DIR/conf/htpasswd" \
                >"$LOGS/httpauth-access.log" 2>"$LOGS/httpauth-error.log" & ;;
        nginx) taskset -c 0 nginx -c "$BENCH_DIR/conf/nginx.conf" 2>>"$LOGS/nginx-error.log" & ;;
        lighttpd) taskset -c 0 lighttpd -D -f "$BENCH_DIR/conf/lighttpd.conf" 2>>"$LOGS/lighttpd-error.log" & ;;
        h2o) taskset -c 0 h2o -c "$BENCH_DIR/conf/h2o.conf" 2>>"$LOGS/h2o-error.log" & ;;
        go) GOMAXPROCS=1 taskset -c 0 "$BENCH_DIR/go-echo" "127.0.0.1:${PORT[$s]}" "$LOGS/go-access.log" \
                2>>"$LOGS/go-error.log" & ;;
        caddy) XDG_DATA_HOME="$BENCH_DIR/conf" XDG_CONFIG_HOME="$BENCH_DIR/conf" GOMAXPROCS=1 \
                taskset -c 0 caddy run --config "$BENCH_DIR/conf/Caddyfile" --adapter caddyfile \
                >>"$LOGS/caddy-error.log" 2>&1 & ;;
        main)
            taskset -c 0 "$MAIN_BINARY" --bind 127.0.0.1 --port "${PORT[$s]}" --root "$ROOT" \
                --workers 1 --max-connections 12000 --idle-timeout 60 \
                >"$LOGS/main-access.log" 2>"$LOGS/main-error.log" & ;;
    esac
    PID[$s]=$!
    local tries=0
    until python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1)" \
            "${PORT[$s]}" 2>/dev/null; do
        tries=$((tries + 1))
        if [ "$tries" -ge 50 ] || ! kill -0 "${PID[$s]}" 2>/dev/null; then
            echo "run.sh: $s did not start; see $LOGS/$s-error.log" >&2
            exit 1
        fi
        sleep 0.1
    done
}

SERVERS=()
for s in httpserver httpauth nginx lighttpd h2o go caddy main; do
    case ",$SERVERS_WANTED," in *",$s,"*) ;; *) continue ;; esac
    [ "$s" = go ] && [ "$HAVE_GO" = 0 ] && continue
    [ "$s" = caddy ] && [ "$HAVE_CADDY" = 0 ] && continue
    [ "$s" = main ] && [ -z "$MAIN_BINARY" ] && continue
    SERVERS+=("$s")
done
echo "== starting ${SERVERS[*]} (pinned to core 0; load on core 1)"
for s in "${SERVERS[@]}"; do start_server "$s"; done

# A process and its descendants (nginx's worker is a child of its master).
tree_pids() {
    local pid=$1
    echo "$pid"
    for child in $(ps -o pid= --ppid "$pid" 2>/dev/null); do tree_pids "$child"; done
}
# "USER SYSTEM" CPU ticks of a process tree.
cpu_ticks() {
    local user=0 system=0 pid fields
    for pid in $(tree_pids "$1"); do
        # utime and stime are fields 14 and 15; the command name (field 2)
        # cannot contain ") " here, so split after it.
        fields=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null) || continue
        set -- $fields
        user=$((user + ${12}))
        system=$((system + ${13}))
    done
    echo "$user $system"
}
rss_kib() {
    local total=0 pid kib
    for pid in $(tree_pids "$1"); do
        kib=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || continue
        total=$((total + ${kib:-0}))
    done
    echo "$total"
}
TICKS_PER_SECOND=$(getconf CLK_TCK)

# --- scenarios --------------------------------------------------------------
scenario_servers() {
    case "$1" in
        echo) for s in "${SERVERS[@]}"; do case "$s" in httpserver|go|main) echo "$s" ;; esac; done ;;
        auth) for s in "${SERVERS[@]}"; do case "$s" in httpserver|httpauth) echo "$s" ;; esac; done ;;
        js64k|html16k) for s in "${SERVERS[@]}"; do case "$s" in go|httpauth) ;; *) echo "$s" ;; esac; done ;;
        *) for s in "${SERVERS[@]}"; do case "$s" in go|caddy|httpauth) ;; *) echo "$s" ;; esac; done ;;
    esac
}

# The request fields Chromium 156 sends for a navigation and for a
# stylesheet (the cookie stands for a site's session).
BROWSER_COMMON=(
    -H "sec-ch-ua: \"Chromium\";v=\"156\", \"Not.A/Brand\";v=\"99\""
    -H "sec-ch-ua-mobile: ?0"
    -H "sec-ch-ua-platform: \"Linux\""
    -H "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
    -H "Accept-Encoding: gzip, deflate, br, zstd"
    -H "Accept-Language: en-US,en;q=0.9"
    -H "Cookie: session=8f14e45fceea167a5a36dedd4bea2543"
)
BROWSER_PAGE=(
    "${BROWSER_COMMON[@]}"
    -H "Upgrade-Insecure-Requests: 1"
    -H "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
    -H "Sec-Fetch-Site: none" -H "Sec-Fetch-Mode: navigate" -H "Sec-Fetch-User: ?1"
    -H "Sec-Fetch-Dest: document"
)
BROWSER_STYLE=(
    "${BROWSER_COMMON[@]}"
    -H "Accept: text/css,*/*;q=0.1"
    -H "Sec-Fetch-Site: same-origin" -H "Sec-Fetch-Mode: no-cors" -H "Sec-Fetch-Dest: style"
    -H "Referer: http://127.0.0.1/index.html"
)

# Run one load of scenario $1 against server $2; output to file $3.
run_load() {
    local scenario=$1 s=$2 out=$3 url="$SCHEME://127.0.0.1:${PORT[$2]}" addr="127.0.0.1:${PORT[$2]}"
    local d="${SECONDS_PER_ROUND}s"
    local -a wrk=(timeout $((SECONDS_PER_ROUND + 30)) taskset -c 1 wrk -t1 --latency -d "$d")
    local -a client=(timeout $((SECONDS_PER_ROUND + 30)) taskset -c 1 "$CLIENT" download "$addr")
    case "$scenario" in
        small) "${wrk[@]}" -c64 "$url/index.html" ;;
        browser) "${wrk[@]}" -c64 "${BROWSER_PAGE[@]}" "$url/index.html" ;;
        css) "${wrk[@]}" -c64 "$url/style.css" ;;
        browsercss) "${wrk[@]}" -c64 "${BROWSER_STYLE[@]}" "$url/style.css" ;;
        conns1000) "${wrk[@]}" -c1000 "$url/index.html" ;;
        close) "${wrk[@]}" -c64 -H "Connection: close" "$url/index.html" ;;
        file1m) "${client[@]}" /1m.bin 16 "$SECONDS_PER_ROUND" ;;
        file100m) "${client[@]}" /100m.bin 4 "$SECONDS_PER_ROUND" ;;
        files10k) "${wrk[@]}" -c64 -s "$HERE/lua/random.lua" "$url" ;;
        notfound) "${wrk[@]}" -c64 "$url/missing.html" ;;
        pipelined) "${wrk[@]}" -c64 -s "$HERE/lua/pipeline.lua" "$url" ;;
        echo) "${wrk[@]}" -c64 -s "$HERE/lua/echo.lua" "$url/echo" ;;
        auth) "${wrk[@]}" -c64 -H "$AUTHORIZATION" "$url/index.html" ;;
        js64k) "${wrk[@]}" -c64 -H "Accept-Encoding: gzip, deflate, br, zstd" "$url/z/app.js" ;;
        html16k) "${wrk[@]}" -c64 -H "Accept-Encoding: gzip, deflate, br, zstd" "$url/z/page.html" ;;
        tls_small) "${wrk[@]}" -c64 "$url/index.html" ;;
        tls_full) s_time_clients "$addr" -new ;;
        tls_resumed) s_time_clients "$addr" -reuse ;;
        tls_file1m) "${wrk[@]}" -c16 "$url/1m.bin" ;;
        tls_file100m) "${wrk[@]}" -c4 "$url/100m.bin" ;;
    esac >"$out" 2>&1 || true
}

# 4 `openssl s_time` clients on core 1 for a round: each a new connection
# per GET of index.html (-new: full handshakes; -reuse: resumed), TLS 1.3
# with openssl's defaults. Prints the sum as "s_time connections=N
# seconds=S".
s_time_clients() { # ADDR -new|-reuse
    local addr=$1 mode=$2 i total=0 n real longest=1
    local -a clients=()
    for i in 1 2 3 4; do
        timeout $((SECONDS_PER_ROUND + 30)) taskset -c 1 openssl s_time -connect "$addr" \
            -www /index.html "$mode" -time "$SECONDS_PER_ROUND" >"$RAW/s_time.$i" 2>&1 &
        clients+=($!)
    done
    # By PID: a bare `wait` would also wait for the servers.
    wait "${clients[@]}" || true
    # "N connections in S real seconds": S is whole seconds, and may run
    # past -time; the rate divides by the longest.
    for i in 1 2 3 4; do
        read -r n real < <(sed -n 's/^\([0-9]*\) connections in \([0-9]*\) real seconds.*/\1 \2/p' \
            "$RAW/s_time.$i" | tail -n1) || true
        total=$((total + ${n:-0}))
        [ "${real:-0}" -gt "$longest" ] && longest=$real
    done
    echo "s_time connections=$total seconds=$longest"
}

RESULTS_TSV="$RAW/results.tsv"
printf 'scenario\tserver\tround\tvalue\tunit\tp99_ms\tcpu_us_per_req\tuser_us_per_req\textra\n' >"$RESULTS_TSV"

# The servers of a scenario, rotated left by $2 places.
rotated() {
    local -a list=($1)
    local n=${#list[@]} i
    for i in $(seq 0 $((n - 1))); do echo "${list[$(((i + $2) % n))]}"; done
}

# Before a compression scenario: 40 requests to each server (so caches are
# filled and httpserver's variant is popular enough to upgrade), 3 s idle
# (the upgrade runs when its compressor has been idle 200 ms), then one
# request whose coding and body size are printed.
warm_compression() {
    local scenario=$1 path s i
    case "$scenario" in js64k) path=/z/app.js ;; html16k) path=/z/page.html ;; esac
    for s in $(scenario_servers "$scenario"); do
        for i in $(seq 40); do
            timeout 10 curl -s -o /dev/null -H "Accept-Encoding: gzip, deflate, br, zstd" \
                "http://127.0.0.1:${PORT[$s]}$path" || true
        done
    done
    sleep 3
    for s in $(scenario_servers "$scenario"); do
        echo "   warm $s: $(timeout 10 curl -s -o /dev/null -H "Accept-Encoding: gzip, deflate, br, zstd" \
            -w '%header{content-encoding} %{size_download} bytes' "http://127.0.0.1:${PORT[$s]}$path")"
    done
}

run_scenario() {
    local scenario=$1 round s out user0 system0 user1 system1 servers
    servers=$(scenario_servers "$scenario")
    case "$scenario" in js64k|html16k) warm_compression "$scenario" ;; esac
    for round in $(seq 1 "$ROUNDS"); do
        for s in $(rotated "$servers" $((round - 1))); do
            out="$RAW/$scenario-$s-$round.txt"
            read -r user0 system0 <<<"$(cpu_ticks "${PID[$s]}")"
            run_load "$scenario" "$s" "$out"
            read -r user1 system1 <<<"$(cpu_ticks "${PID[$s]}")"
            python3 "$HERE/report.py" parse "$scenario" "$s" "$round" "$out" \
                "$((user1 - user0))" "$((system1 - system0))" "$TICKS_PER_SECOND" >>"$RESULTS_TSV"
            tail -n1 "$RESULTS_TSV" | cut -f1-7 | tr '\t' ' ' | sed 's/^/   /'
            sleep 0.5
        done
    done
}

run_idle() {
    local s base held line
    for s in $(scenario_servers idle); do
        base=$(rss_kib "${PID[$s]}")
        coproc IDLE { timeout 300 taskset -c 1 "$CLIENT" idle "127.0.0.1:${PORT[$s]}" /index.html \
            "$IDLE_CONNECTIONS" 120 2>&1; }
        line=""
        read -r -t 120 line <&"${IDLE[0]}" || true
        sleep 2
        held=$(rss_kib "${PID[$s]}")
        eval "exec ${IDLE[1]}>&-"
        wait "$IDLE_PID" 2>/dev/null || true
        printf 'idle\t%s\t1\t%s\tMiB\t\t\t\tbase_kib=%s held_kib=%s %s connections=%s\n' "$s" \
            "$(python3 -c "print(f'{$held/1024:.1f}')")" "$base" "$held" "$line" "$IDLE_CONNECTIONS" \
            >>"$RESULTS_TSV"
        echo "   idle $s: RSS ${base} KiB → ${held} KiB with $line"
        sleep 3
    done
}

for scenario in $ALL_SCENARIOS; do
    if [ -n "$ONLY" ]; then
        case ",$ONLY," in *",$scenario,"*) ;; *) continue ;; esac
    fi
    echo "== $scenario"
    if [ "$scenario" = idle ]; then run_idle; else run_scenario "$scenario"; fi
done

# --- report -----------------------------------------------------------------
cp "$RESULTS_TSV" "$RESULTS/raw.tsv"
{
    echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr)"
    echo "versions: $(nginx -v 2>&1 | head -1); $(lighttpd -v 2>&1 | head -1); $(h2o -v 2>&1 | head -1);" \
         "$( [ "$HAVE_CADDY" = 1 ] && echo "caddy $(caddy version 2>&1 | head -1);")" \
         "$(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2); $(rustc -V)$( [ "$HAVE_GO" = 1 ] && echo "; $(go version)")"
    echo "rounds: $ROUNDS × ${SECONDS_PER_ROUND}s per scenario and server, alternated (each round starts one server later); idle: $IDLE_CONNECTIONS connections"
} >"$RESULTS/environment.txt"
python3 "$HERE/report.py" report "$RESULTS_TSV" "$RESULTS" "$HAVE_GNUPLOT"
cat "$RESULTS/environment.txt"
