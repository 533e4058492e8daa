#!/usr/bin/env python3
"""Keep the FreeBSD port in port/sysutils/carpctl in step with the tree.

    python3 port/update.py crates [Cargo.lock]   # print CARGO_CRATES
    python3 port/update.py distinfo              # print distinfo
    python3 port/update.py write                 # rewrite the derived files

`crates` prints what the ports framework's `make cargo-crates` prints for
the same Cargo.lock (Mk/Uses/cargo.mk runs Mk/Scripts/cargo-crates.awk):

  * every package from crates.io as NAME-VERSION, in Cargo.lock's order
    (several versions of one crate are each listed);
  * packages from git as NAMES@SOURCE, one entry per git source with the
    names of its packages joined by ",", after the registry ones, "#"
    written "\\#" for make; the framework's awk prints these in its hash
    order, this script sorts them by source so the output is stable;
  * nothing for a package without a source: the workspace's own members
    (carpctl, carpctl-sys) and path dependencies are in the source tree;
  * the block is "CARGO_CRATES=<TAB>first \\", then "<TAB><TAB>next \\"
    lines, the last without the backslash; nothing when there are none.

A package from any other registry cannot be fetched by the framework
(MASTER_SITE_CRATESIO only): that is an error here, where the awk script
would drop it silently.

`distinfo` prints the port's distinfo: a TIMESTAMP line (the committed
one while the rest is unchanged), then one SHA256 and one SIZE line for
each crate file rust/crates/NAME-VERSION.crate, as `make makesum` writes
them.
The SHA256 is Cargo.lock's checksum (crates.io's own); the SIZE is read
from cargo's download cache (run `cargo fetch --locked` first), whose file
must have that checksum.

`write` rewrites, from the tree's Cargo.lock and rc.d/:
  Makefile.crates      (CARGO_CRATES; cargo.mk includes it),
  distinfo             (TIMESTAMP kept when nothing else changed),
  files/carpctl.in, files/carpctld.in, files/carpctl-devd.conf.in
                       (rc.d/ with /usr/local written %%PREFIX%%: USE_RC_SUBR
                        and SUB_FILES read files/NAME.in and substitute it).
tests/packaging checks that all of them are current.

Only the standard library (tomllib: Python 3.11).
"""

import hashlib
import os
import sys
import time
import tomllib
from pathlib import Path

CRATES_IO = "registry+https://github.com/rust-lang/crates.io-index"
ROOT = Path(__file__).resolve().parent.parent
PORT = ROOT / "port" / "sysutils" / "carpctl"
# rc.d/NAME -> files/NAME.in
RC_FILES = ["carpctl", "carpctld", "carpctl-devd.conf"]
LOCK_LIMIT = 16 << 20


class Error(Exception):
    pass


def load_lock(path):
    """The [[package]] tables of a Cargo.lock."""
    try:
        with open(path, "rb") as f:
            data = f.read(LOCK_LIMIT + 1)
    except OSError as e:
        raise Error(f"cannot read {path}: {e.strerror}") from None
    if len(data) > LOCK_LIMIT:
        raise Error(f"{path}: larger than {LOCK_LIMIT} bytes")
    try:
        lock = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise Error(f"{path}: not a Cargo.lock: {e}") from None
    packages = lock.get("package", [])
    if not isinstance(packages, list):
        raise Error(f"{path}: `package` is not an array of tables")
    for i, p in enumerate(packages, 1):
        for key in ("name", "version"):
            if not isinstance(p, dict) or not isinstance(p.get(key), str):
                raise Error(f"{path}: package {i} has no {key}")
        if not isinstance(p.get("source", ""), str):
            raise Error(f"{path}: package {p['name']}: source is not a string")
    return packages


def crate_list(packages, path):
    """The CARGO_CRATES entries, in the framework's order."""
    registry, git = [], {}
    for p in packages:
        source = p.get("source")
        if source is None:
            continue
        if source == CRATES_IO:
            registry.append(f"{p['name']}-{p['version']}")
        elif source.startswith("git+"):
            git.setdefault(source.replace("#", "\\#"), []).append(p["name"])
        else:
            raise Error(
                f"{path}: {p['name']} {p['version']} comes from {source}, "
                "which the ports framework cannot fetch (crates.io and git only)"
            )
    return registry + [",".join(names) + "@" + s for s, names in sorted(git.items())]


def crates_block(entries):
    """`make cargo-crates`'s text for these entries."""
    lines = []
    start = "CARGO_CRATES="
    for i, entry in enumerate(entries):
        end = "\n" if i == len(entries) - 1 else " \\\n"
        lines.append(f"{start}\t{entry}{end}")
        start = "\t"
    return "".join(lines)


def cargo_cache_dirs():
    home = Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo"))
    return sorted((home / "registry" / "cache").glob("index.crates.io-*"))


def distinfo_body(packages):
    """The SHA256/SIZE lines of distinfo, in CARGO_CRATES order."""
    dirs = cargo_cache_dirs()
    lines = []
    for p in packages:
        if p.get("source") != CRATES_IO:
            continue
        name = f"{p['name']}-{p['version']}.crate"
        want = p.get("checksum")
        if not isinstance(want, str):
            raise Error(f"Cargo.lock: {name} has no checksum")
        found = next((d / name for d in dirs if (d / name).is_file()), None)
        if found is None:
            raise Error(f"{name} is not in cargo's cache: run `cargo fetch --locked` first")
        data = found.read_bytes()
        got = hashlib.sha256(data).hexdigest()
        if got != want:
            raise Error(f"{found}: SHA256 {got}, but Cargo.lock says {want}")
        lines.append(f"SHA256 (rust/crates/{name}) = {want}\n")
        lines.append(f"SIZE (rust/crates/{name}) = {len(data)}\n")
    return "".join(lines)


def distinfo_text(packages, old):
    body = distinfo_body(packages)
    stamp = None
    if old is not None:
        head, _, rest = old.partition("\n")
        if head.startswith("TIMESTAMP = ") and rest == body:
            stamp = head[len("TIMESTAMP = "):]
    if stamp is None:
        stamp = str(int(os.environ.get("SOURCE_DATE_EPOCH", time.time())))
    return f"TIMESTAMP = {stamp}\n{body}"


def rc_in(text):
    """An rc.d file as the port's files/NAME.in: the prefix substituted."""
    if "%%" in text:
        raise Error("an rc.d file contains %%, which SUB_LIST would substitute")
    return text.replace("/usr/local", "%%PREFIX%%")


def write_if_changed(path, text):
    old = path.read_text() if path.exists() else None
    if old != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text)
        tmp.replace(path)
        print(f"updated {path.relative_to(ROOT)}")


def write_all():
    lock = ROOT / "Cargo.lock"
    packages = load_lock(lock)
    write_if_changed(PORT / "Makefile.crates", crates_block(crate_list(packages, lock)))
    distinfo = PORT / "distinfo"
    old = distinfo.read_text() if distinfo.exists() else None
    write_if_changed(distinfo, distinfo_text(packages, old))
    for name in RC_FILES:
        write_if_changed(PORT / "files" / f"{name}.in", rc_in((ROOT / "rc.d" / name).read_text()))


def main(argv):
    usage = "usage: update.py crates [Cargo.lock] | distinfo | write"
    if not argv or argv[0] not in ("crates", "distinfo", "write"):
        print(usage, file=sys.stderr)
        return 2
    cmd, args = argv[0], argv[1:]
    if (cmd == "crates" and len(args) > 1) or (cmd != "crates" and args):
        print(usage, file=sys.stderr)
        return 2
    try:
        if cmd == "crates":
            lock = Path(args[0]) if args else ROOT / "Cargo.lock"
            sys.stdout.write(crates_block(crate_list(load_lock(lock), lock)))
        elif cmd == "distinfo":
            old = PORT / "distinfo"
            old = old.read_text() if old.exists() else None
            sys.stdout.write(distinfo_text(load_lock(ROOT / "Cargo.lock"), old))
        else:
            write_all()
    except Error as e:
        print(f"update.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
