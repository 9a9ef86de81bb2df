# Sourced by the scripts in tests/: install what a test drives from
# Debian's packages. The caller defines `fail`.
#
# ensure COMMAND PACKAGE: apt-get install PACKAGE unless COMMAND exists;
# `apt-get update` only if the first try fails (a fresh machine's lists may
# be empty).
ensure() {
    command -v "$1" >/dev/null && return
    echo "== installing $2 from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    timeout 600 apt-get install -y --no-install-recommends "$2" >/dev/null 2>&1 ||
        { timeout 600 apt-get update >/dev/null 2>&1 &&
            timeout 600 apt-get install -y --no-install-recommends "$2" >/dev/null 2>&1; } ||
        fail "cannot install $2"
    command -v "$1" >/dev/null || fail "$2 installed no $1"
}
