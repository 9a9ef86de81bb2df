# Sourced by the scripts in tests/: build the server binary and start it on
# 127.0.0.1. The caller defines `fail`.
#
# build_binary builds the debug binary (20 minutes at most) and sets
# `binary` to its path.
build_binary() {
    echo "== cargo build"
    timeout 1200 cargo build --quiet || fail "cargo build failed"
    local target_dir
    target_dir=$(cargo metadata --format-version 1 --no-deps |
        sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
    binary="$target_dir/debug/httpserver"
    [[ -x $binary ]] || fail "no binary at $binary"
}

# start_server NAME ROOT [FLAGS...] starts "$binary" on a free port over ROOT
# with FLAGS, its stdout and stderr in "$work/NAME.out" and "$work/NAME.err",
# waits (10 s at most) for its "Server listening on :PORT" line, and sets
# `started_pid` and `started_port`. The caller defines `fail`, `binary` and
# `work`, and stops the server by its pid.
start_server() {
    local name=$1 root=$2 line
    shift 2
    "$binary" --port 0 --bind 127.0.0.1 --root "$root" "$@" \
        >"$work/$name.out" 2>"$work/$name.err" &
    started_pid=$!
    started_port=
    for _ in $(seq 100); do
        line=$(head -n1 "$work/$name.out" 2>/dev/null || true)
        if [[ $line =~ ^Server\ listening\ on\ :([0-9]+)$ ]]; then
            started_port=${BASH_REMATCH[1]}
            return
        fi
        kill -0 "$started_pid" 2>/dev/null ||
            fail "$name server exited at start: $(head -n1 "$work/$name.err")"
        sleep 0.1
    done
    fail "$name server did not print its listening line within 10 s"
}
