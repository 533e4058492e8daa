#!/bin/sh
# Build carpctl and run the seed scenario on two emulated FreeBSD hosts.
#
# Two mail servers, mail-a (em0 192.168.1.3/24, 2001:db8::3/64) and
# mail-b (igb0 192.168.1.4/24, 2001:db8::4/64), share the VIPs of
# examples/seed.toml: each applies the same cluster file and takes its own
# part of it. Then the simulator runs examples/seed-scenario.toml. Needs only the Rust
# toolchain: no FreeBSD, no root, no network. Everything lives in a
# temporary directory that is removed at the end. See README.md, "Try it".

set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

echo "Building carpctl (cargo build) ..."
cargo build --quiet --bin carpctl
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

cd "$work"
# The cluster file and its key files (same content on every node, mode 0600).
cp "$top/examples/seed.toml" carpctl.toml
mkdir -m 700 carpctl.d
(umask 077 && printf 'mail1-secret\n' > carpctl.d/mail1.key && printf 'mail2-secret\n' > carpctl.d/mail2.key)

# Two FreeBSD 14 hosts (netlink) with carp.ko loaded.
run carpctl emulate init mail-a.host --iface em0=192.168.1.3/24 --iface em0=2001:db8::3/64
run carpctl emulate init mail-b.host --iface igb0=192.168.1.4/24 --iface igb0=2001:db8::4/64

for node in mail-a mail-b; do
    # What would change, then the change itself; a second apply finds
    # nothing to do.
    run carpctl --kernel "emulated:$node.host" -c carpctl.toml --node "$node" apply --dry-run
    run carpctl --kernel "emulated:$node.host" -c carpctl.toml --node "$node" apply
    run carpctl --kernel "emulated:$node.host" -c carpctl.toml --node "$node" apply
done

for node in mail-a mail-b; do
    run carpctl --kernel "emulated:$node.host" -c carpctl.toml --node "$node" status
done

cat <<'NOTE'

Each emulated host above is alone, so every vhid stays BACKUP and the cluster
view says "not as planned" for the VIP the node should master. To see the two
nodes on one segment, exchanging real advertisements, the simulator runs the
same cluster file: mail-a crashes at 10 s and boots again at 60 s.
NOTE
run carpctl simulate "$top/examples/seed-scenario.toml"
printf '\nDone. The emulated hosts were in %s and have been removed.\n' "$work"
