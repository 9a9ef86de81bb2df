#!/usr/bin/env bash
# Proven with real TLS tools (issue 15.5): the HTTPS listener checked by
# `openssl s_client` and by `testssl.sh`, both from Debian's packages.
#
# Asserts, with an ECDSA P-256 certificate made by openssl:
# - openssl: TLS 1.3 and 1.2 handshakes succeed and negotiate ALPN
#   http/1.1; an h2-only offer gets the no_application_protocol alert;
#   TLS 1.0 and 1.1 are refused; SNI picks the certificate named (exact,
#   wildcard) and the default otherwise; a request over s_client is
#   answered 200; plain HTTP on the port gets a 400.
# - testssl.sh (protocols, ciphers by category, forward secrecy,
#   vulnerabilities): SSLv2, SSLv3, TLS 1.0 and 1.1 not offered, no NULL,
#   anonymous, export, LOW or 3DES cipher offered, forward secrecy
#   offered, and no finding rated HIGH or CRITICAL. (Its RC4 check needs
#   an OpenSSL with RC4, which Debian's lacks: it reports a WARN; rustls
#   has no RC4 at all.) KEEP_WORK=1 keeps the files for a look.
#
# Every wait is bounded; the server is stopped by its PID. Exits 0 on
# success, or non-zero with one line "tls test: FAIL: <reason>".
set -euo pipefail
cd "$(dirname "$0")/../.."

fail() {
    echo "tls test: FAIL: $*" >&2
    exit 1
}

# shellcheck source=tests/support/packages.sh
source tests/support/packages.sh

ensure openssl openssl
ensure testssl testssl.sh
ensure curl curl

work=$(mktemp -d)
server_pid=
cleanup() {
    [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    if [[ -n ${KEEP_WORK:-} ]]; then echo "work kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# shellcheck source=tests/support/server.sh
source tests/support/server.sh
build_binary

echo "== certificates (ECDSA P-256, by openssl)"
make_cert() { # STEM SUBJECT_ALT_NAMES
    timeout 30 openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$work/$1.key" -out "$work/$1.crt" -days 30 -subj "/CN=$1" \
        -addext "subjectAltName=$2" 2>/dev/null || fail "openssl cannot make $1"
}
make_cert default "DNS:localhost,IP:127.0.0.1"
make_cert exact "DNS:exact.test"
make_cert wild "DNS:*.wild.test"
mkdir -p "$work/root"
echo "hello over TLS" >"$work/root/index.html"

start_server tls "$work/root" \
    --tls-cert "$work/default.crt" --tls-key "$work/default.key" \
    --tls-cert "$work/exact.crt" --tls-key "$work/exact.key" \
    --tls-cert "$work/wild.crt" --tls-key "$work/wild.key" \
    --access-log off
server_pid=$started_pid
port=$started_port
echo "   listening on 127.0.0.1:$port"

# s_client ARGS...: one bounded handshake; its output (stdout and stderr).
s_client() {
    timeout 10 openssl s_client -connect "127.0.0.1:$port" "$@" </dev/null 2>&1 || true
}

echo "== openssl s_client: versions and ALPN"
for version in tls1_3 tls1_2; do
    out=$(s_client "-$version" -alpn http/1.1)
    grep -q "^ALPN protocol: http/1.1" <<<"$out" || fail "$version: no ALPN http/1.1: $out"
    grep -q "Verify return code" <<<"$out" || fail "$version: no handshake"
    echo "   $version: handshake, ALPN http/1.1"
done
out=$(s_client -alpn h2)
grep -qi "no application protocol" <<<"$out" || fail "h2-only offer: no no_application_protocol alert"
echo "   h2 only: no_application_protocol alert"
for version in tls1 tls1_1; do
    out=$(s_client "-$version" -cipher 'DEFAULT:@SECLEVEL=0')
    # The client offered only this version (any cipher): no session.
    grep -q "Cipher is (NONE)" <<<"$out" || fail "$version was accepted: $out"
    echo "   $version: refused ($(grep -o 'alert [a-z ]*' <<<"$out" | head -n1))"
done

echo "== openssl s_client: SNI"
subject_for() { # SERVER_NAME (empty: no SNI)
    local args=(-noservername)
    [[ -n $1 ]] && args=(-servername "$1")
    s_client "${args[@]}" | sed -n 's/^subject=.*CN *= *\([a-z]*\).*/\1/p' | head -n1
}
for case in "exact.test exact" "a.wild.test wild" "other.test default" " default"; do
    read -r name expected <<<"$case" || true
    [[ -z ${expected:-} ]] && { expected=$name; name=; }
    got=$(subject_for "$name")
    [[ $got == "$expected" ]] || fail "SNI '${name:-none}' got certificate '$got', not '$expected'"
    echo "   SNI '${name:-none}': $got"
done

echo "== a request over TLS, and plain HTTP to the TLS port"
body=$(printf 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' |
    timeout 10 openssl s_client -quiet -connect "127.0.0.1:$port" -servername localhost 2>/dev/null || true)
grep -q "hello over TLS" <<<"$body" || fail "no page over s_client: $body"
code=$(timeout 10 curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/" || true)
[[ $code == 400 ]] || fail "plain HTTP to the TLS port got '$code', not 400"
echo "   200 over TLS; plain HTTP: 400"

echo "== testssl.sh: protocols, cipher categories, forward secrecy, vulnerabilities"
json="$work/testssl.json"
# --fast and the chosen checks keep it to about a minute on loopback.
timeout 600 testssl --quiet --color 0 --warnings off --fast --sneaky \
    --connect-timeout 5 --openssl-timeout 5 \
    -p -s -f -U --jsonfile "$json" "127.0.0.1:$port" >"$work/testssl.out" 2>&1 ||
    true
[[ -s $json ]] || fail "testssl.sh wrote no findings: $(tail -n3 "$work/testssl.out")"
# The findings as "id severity finding", one a line.
findings=$(python3 -c '
import json, sys
for f in json.load(open(sys.argv[1])):
    print(f.get("id"), f.get("severity"), f.get("finding", "").replace("\n", " "))
' "$json")
grep -q "^TLS1_3 OK offered" <<<"$findings" || fail "testssl.sh: TLS 1.3 not offered"
grep -q "^TLS1_2 OK offered" <<<"$findings" || fail "testssl.sh: TLS 1.2 not offered"
for protocol in SSLv2 SSLv3 TLS1 TLS1_1; do
    grep -q "^$protocol [A-Z]* not offered" <<<"$findings" ||
        fail "testssl.sh: $protocol: $(grep "^$protocol " <<<"$findings")"
done
for category in cipherlist_NULL cipherlist_aNULL cipherlist_EXPORT cipherlist_LOW cipherlist_3DES_IDEA; do
    grep -q "^$category [A-Z]* not offered" <<<"$findings" ||
        fail "testssl.sh: $category: $(grep "^$category " <<<"$findings")"
done
# The id is FS in newer testssl.sh, PFS in Debian's 3.0.
grep -qE "^P?FS OK offered" <<<"$findings" ||
    fail "testssl.sh: forward secrecy: $(grep -E '^P?FS ' <<<"$findings")"
severe=$(grep -E "^[^ ]+ (HIGH|CRITICAL) " <<<"$findings" || true)
[[ -z $severe ]] || fail "testssl.sh rated HIGH/CRITICAL: $severe"
echo "   $(wc -l <<<"$findings") findings; none HIGH or CRITICAL"
echo "   $(grep -cE '^[^ ]+ (MEDIUM|LOW) ' <<<"$findings" || true) MEDIUM/LOW:"
grep -E "^[^ ]+ (MEDIUM|LOW) " <<<"$findings" | sed 's/^/     /' || true

echo "tls test: PASS"
