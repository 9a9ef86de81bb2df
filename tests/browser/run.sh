#!/usr/bin/env bash
# Real-browser test of the bundled site and of directory listings.
#
# Starts httpserver with --listing on 127.0.0.1 (a free port) over a copy of
# ./public plus a directory of awkwardly named files, then with headless
# Chromium (--dump-dom): loads index.html and checks its <h1>; loads the
# listing and checks every awkward name rendered; then, for each awkward
# name, takes the link's href from the rendered DOM, resolves it against the
# listing URL, loads it and checks the file's content rendered. Then starts a
# second server with --cors, on another origin, and checks that script on
# the first can read what a cross-origin reader of files needs (issue 11):
# ETag, Content-Range and Accept-Ranges of a range request. Last (issue
# 16), a settled page and script big enough to be compressed on the fly:
# curl, with Chromium's Accept-Encoding, waits (50 tries, 0.1 s apart) until
# both come compressed, then Chromium loads the page, decodes both and runs
# the script, which writes what it computed into the DOM.
#
# Installs Debian's `chromium` package (apt-get, needs root) if no Chromium
# is on PATH. Every step is bounded by `timeout`. Exits 0 on success, or
# non-zero with one line "browser test: FAIL: <reason>" on stderr.
set -euo pipefail
cd "$(dirname "$0")/../.."

fail() {
    echo "browser test: FAIL: $*" >&2
    exit 1
}

# --- Chromium --------------------------------------------------------------
chrome=$(command -v chromium || command -v chromium-browser || true)
if [[ -z $chrome ]]; then
    command -v apt-get >/dev/null || fail "no chromium on PATH and no apt-get to install it"
    [[ $(id -u) -eq 0 ]] || fail "no chromium on PATH; installing it needs root"
    echo "== installing Debian's chromium package (apt-get install chromium)"
    export DEBIAN_FRONTEND=noninteractive
    timeout 600 apt-get update -qq || fail "apt-get update failed"
    timeout 1200 apt-get install -y -qq chromium >/dev/null || fail "apt-get install chromium failed"
    chrome=$(command -v chromium) || fail "chromium still not on PATH after install"
fi
echo "== $("$chrome" --version 2>/dev/null | head -n1)"

# --- Build -----------------------------------------------------------------
source tests/support/server.sh
build_binary

# --- Document root -----------------------------------------------------------
work=$(mktemp -d)
server_pid=
cors_pid=
cleanup() {
    for pid in $server_pid $cors_pid; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

root="$work/root"
mkdir -p "$root/awkward"
cp -R public/. "$root/"
# Each name, and the text its rendered DOM shows (text nodes escape & < >).
names=('a b.txt' 'c#d.txt' 'q?x.txt' '"quoted".txt' 'ünï.txt' '<tag>.txt')
shown=('a b.txt' 'c#d.txt' 'q?x.txt' '"quoted".txt' 'ünï.txt' '&lt;tag&gt;.txt')
for i in "${!names[@]}"; do
    printf 'marker-%d-content\n' "$i" >"$root/awkward/${names[$i]}"
done
mkdir "$root/awkward/sub dir"

# --- Servers ---------------------------------------------------------------
start_server server "$root" --listing
server_pid=$started_pid
port=$started_port
origin="http://127.0.0.1:$port"
echo "== server pid $server_pid on $origin"

# --- Browser -----------------------------------------------------------------
# The DOM of `url` after Chromium rendered it, on stdout; further arguments
# go to Chromium.
dump_dom() {
    local profile url=$1
    shift
    profile=$(mktemp -d -p "$work")
    timeout -k 5 60 "$chrome" --headless --no-sandbox --disable-gpu --disable-quic \
        --disable-dev-shm-usage --no-first-run --disable-background-networking \
        --disable-component-update --disable-sync --user-data-dir="$profile" \
        "$@" --dump-dom "$url" 2>>"$work/chromium.err"
}

# `href` resolved against the directory URL `base` (which ends with /).
resolve() {
    local href=$1 base=$2
    case $href in
        http://* | https://*) echo "$href" ;;
        /*) echo "$origin$href" ;;
        *) echo "$base$href" ;;
    esac
}

echo "== index.html"
dom=$(dump_dom "$origin/") || fail "chromium could not load $origin/ (exit $?)"
grep -qF '<h1>It works!</h1>' <<<"$dom" || fail "index.html: no <h1>It works!</h1> in the DOM"

echo "== listing"
listing_url="$origin/awkward/"
dom=$(dump_dom "$listing_url") || fail "chromium could not load $listing_url (exit $?)"
grep -qF '<h1>Index of /awkward/</h1>' <<<"$dom" || fail "listing: no h1 'Index of /awkward/'"
grep -qF '<a href="../">../</a>' <<<"$dom" || fail "listing: no parent link"
grep -qF '<a href="sub%20dir/">sub dir/</a>' <<<"$dom" || fail "listing: no link to 'sub dir/'"
for i in "${!names[@]}"; do
    grep -qF ">${shown[$i]}</a>" <<<"$dom" || fail "listing: '${names[$i]}' not rendered"
done

echo "== following links"
for i in "${!names[@]}"; do
    href=$(sed 's/<a /\n<a /g' <<<"$dom" | grep -F ">${shown[$i]}</a>" |
        sed -n 's/^<a href="\([^"]*\)".*/\1/p' | head -n1)
    [[ -n $href ]] || fail "listing: no href for '${names[$i]}'"
    url=$(resolve "$href" "$listing_url")
    page=$(dump_dom "$url") || fail "chromium could not load $url (exit $?)"
    grep -qF "marker-$i-content" <<<"$page" ||
        fail "following '${names[$i]}' ($url): its content did not render"
    echo "   ok  ${names[$i]}  ->  $url"
done

echo "== cross-origin reads (--cors)"
start_server cors "$root" --cors
cors_pid=$started_pid
cors_origin="http://127.0.0.1:$started_port"
echo "   cors server pid $cors_pid on $cors_origin"
printf 'cross-origin bytes\n' >"$root/cors-data.txt"
cat >"$root/cors.html" <<PAGE
<!doctype html><title>cors</title><pre id="out">pending</pre>
<script>
fetch("$cors_origin/cors-data.txt", {headers: {Range: "bytes=0-4"}})
  .then(async r => {
    const h = name => name + "=" + r.headers.get(name);
    document.getElementById("out").textContent = ["status=" + r.status,
      h("ETag"), h("Content-Range"), h("Accept-Ranges"), "body=" + await r.text()].join(" ");
  })
  .catch(e => { document.getElementById("out").textContent = "error=" + e; });
</script>
PAGE
dom=$(dump_dom "$origin/cors.html" --virtual-time-budget=10000) ||
    fail "chromium could not load $origin/cors.html (exit $?)"
result=$(sed -n 's/.*<pre id="out">\([^<]*\)<.*/\1/p' <<<"$dom")
echo "   script read: $result"
[[ $result == *"status=206"* ]] || fail "cors: the range request did not give 206: $result"
[[ $result =~ ETag=\"[^\"]+\" ]] || fail "cors: script could not read ETag: $result"
[[ $result == *"Content-Range=bytes 0-4/19"* ]] || fail "cors: script could not read Content-Range: $result"
[[ $result == *"Accept-Ranges=bytes"* ]] || fail "cors: script could not read Accept-Ranges: $result"
[[ $result == *"body=cross"* ]] || fail "cors: wrong body: $result"

echo "== a compressed page and script (issue 16)"
mkdir "$root/compressed"
{
    echo '<!doctype html><title>compressed</title><p id="out">script did not run</p>'
    for i in $(seq 60); do echo "<p class=\"filler\">Paragraph $i of a page long enough to compress.</p>"; done
    echo '<script src="app.js"></script>'
} >"$root/compressed/index.html"
{
    echo 'let total = 0;'
    for i in $(seq 300); do echo "function step$i(x) { return x + $i; } total = step$i(total);"; done
    echo 'document.getElementById("out").textContent = "script ran, total=" + total;'
} >"$root/compressed/app.js"
touch -d '1 hour ago' "$root/compressed/index.html" "$root/compressed/app.js"
chromium_codings='gzip, deflate, br, zstd'
for file in index.html app.js; do
    coding=
    for _ in $(seq 50); do
        coding=$(timeout 10 curl -sS -o /dev/null -H "Accept-Encoding: $chromium_codings" \
            -w '%header{content-encoding}' "$origin/compressed/$file") || fail "curl exited $?"
        [[ -n $coding ]] && break
        sleep 0.1
    done
    [[ -n $coding ]] || fail "compressed/$file never came compressed"
    echo "   $file goes out as $coding"
done
dom=$(dump_dom "$origin/compressed/" --virtual-time-budget=10000) ||
    fail "chromium could not load $origin/compressed/ (exit $?)"
# 1 + 2 + ... + 300 = 45150
grep -qF 'script ran, total=45150' <<<"$dom" ||
    fail "compressed page: the compressed script did not run: $(grep -o '<p id="out">[^<]*' <<<"$dom")"
grep -qF 'Paragraph 60 of a page' <<<"$dom" || fail "compressed page: not all of it rendered"
echo "   ok  Chromium decoded and rendered the page and ran the script"

echo "browser test: OK (index.html, listing with ${#names[@]} awkward names, each link followed, cross-origin range read, compressed page and script)"
