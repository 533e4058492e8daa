#!/bin/sh
# Build carpctl and run it on an emulated FreeBSD host.
#
# Needs only the Rust toolchain: no FreeBSD, no root, no network. The
# emulated host lives in a temporary directory that is removed at the end.
# See README.md, "Try it".

set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

echo "Building carpctl (cargo build) ..."
cargo build --bin carpctl
bin="${CARGO_TARGET_DIR:-$top/target}/debug/carpctl"

work=$(mktemp -d "${TMPDIR:-/tmp}/carpctl-try.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' HUP INT TERM

# Show each command as a user would type it, then run it.
carpctl() {
    "$bin" "$@"
}
run() {
    printf '\n$ %s\n' "$*"
    "$@"
}

host="$work/node1"

# A FreeBSD 14 host (netlink) with one Ethernet interface that has an IPv4
# and an IPv6 address, and carp.ko loaded.
run carpctl emulate init "$host" --freebsd 14 \
    --iface em0=192.0.2.3/24 --iface em0=2001:db8::3/64

# What carp(4) looks like there, for people and for scripts.
run carpctl --kernel "emulated:$host" status
run carpctl --kernel "emulated:$host" status --json

printf '\nDone. The emulated host was in %s and has been removed.\n' "$work"
