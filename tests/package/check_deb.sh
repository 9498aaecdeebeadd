#!/usr/bin/env bash
# Builds the Debian package from BUILD_DIR (the program already built) with cpack and
# checks it: its files and conffiles (dpkg-deb), lintian without errors or warnings, the
# unit (systemd-analyze verify, which must also see a planted bad directive), the user
# (systemd-sysusers --dry-run), a stripped program whose debug information is in the
# dbgsym package, and the extracted program: --version, demo, verify (an intact journal
# exits 0, a missing one does not), and `node --help` saying what SIGHUP does; then it
# builds examples/host against the package's CMake package and runs it.
set -euo pipefail
build="$1"
source="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

version="$(sed -n 's/^project(bulwark VERSION \([0-9.]*\).*/\1/p' "$source/CMakeLists.txt")"
[ -n "$version" ] || fail "no version in CMakeLists.txt"
(cd "$build" && cpack -G DEB -B "$work/out" >"$work/cpack.log") || { cat "$work/cpack.log"; fail "cpack"; }
arch="$(dpkg --print-architecture)"
deb="$work/out/bulwark_${version}_${arch}.deb"
ddeb="$work/out/bulwark-dbgsym_${version}_${arch}.ddeb"
[ -f "$deb" ] || fail "no $deb (got: $(ls "$work/out"))"
[ -f "$ddeb" ] || fail "no debug package $ddeb"

# -- what the package holds ------------------------------------------------------
dpkg-deb --contents "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$work/files"
for f in /usr/bin/bulwark /etc/bulwark/bulwark.toml /etc/bulwark/fleet.toml \
         /lib/systemd/system/bulwark.service /usr/lib/sysusers.d/bulwark.conf \
         /usr/include/bulwark/engine.hpp /usr/lib/cmake/bulwark/bulwarkConfig.cmake \
         /usr/lib/cmake/bulwark/bulwarkTargets.cmake /usr/lib/libbulwark_engine.a \
         /usr/share/doc/bulwark/copyright /usr/share/doc/bulwark/changelog.gz \
         /usr/share/doc/bulwark/operations.md /usr/share/man/man1/bulwark.1.gz; do
  grep -qx "$f" "$work/files" || fail "$f is not in the package"
done
grep -q '^/usr/lib/debug' "$work/files" && fail "debug files in the main package"
dpkg-deb --field "$deb" Package Version Architecture | tee "$work/fields"
grep -qx "Version: $version" "$work/fields" || fail "version is not $version"
dpkg-deb --field "$deb" Depends | grep 'systemd' >/dev/null || fail "does not depend on systemd"
dpkg-deb --control "$deb" "$work/control"
diff <(sort "$work/control/conffiles") \
     <(printf '%s\n' /etc/bulwark/bulwark.toml /etc/bulwark/fleet.toml) \
  || fail "conffiles differ"
echo "files and conffiles: ok ($(wc -l <"$work/files") entries)"

# -- lintian -------------------------------------------------------------------------
lintian --fail-on error,warning "$deb" >"$work/lintian" 2>&1 \
  || { cat "$work/lintian"; fail "lintian reports errors or warnings"; }
grep '^[EW]:' "$work/lintian" && fail "lintian reports errors or warnings"
echo "lintian: no errors or warnings"

# -- the unit ------------------------------------------------------------------------
root="$work/root"
dpkg-deb -x "$deb" "$root"
unit="$root/lib/systemd/system/bulwark.service"
for line in 'User=bulwark' 'StateDirectory=bulwark' 'ProtectSystem=strict' \
            'NoNewPrivileges=yes' 'Restart=on-failure' 'ExecReload=/bin/kill -HUP $MAINPID' \
            'ExecStart=/usr/bin/bulwark node --config /etc/bulwark/bulwark.toml --fleet /etc/bulwark/fleet.toml --data /var/lib/bulwark'; do
  grep -qxF "$line" "$unit" || fail "the unit lacks: $line"
done
for f in bulwark.toml fleet.toml; do
  cmp "$root/etc/bulwark/$f" "$source/conf/$f" || fail "/etc/bulwark/$f is not conf/$f"
done
grep -q '^u bulwark ' "$root/usr/lib/sysusers.d/bulwark.conf" || fail "no bulwark user in sysusers.d"
systemd-sysusers --dry-run --root="$root" "$root/usr/lib/sysusers.d/bulwark.conf" \
  >"$work/sysusers" 2>&1 || { cat "$work/sysusers"; fail "systemd-sysusers refuses the file"; }
grep -q "Creating user 'bulwark'" "$work/sysusers" || fail "sysusers.d makes no bulwark user"
# Verified as shipped but for the program's path, which is the extracted one here.
mkdir "$work/units"
sed "s|/usr/bin/bulwark|$root/usr/bin/bulwark|" "$unit" >"$work/units/bulwark.service"
SYSTEMD_LOG_LEVEL=notice systemd-analyze verify "$work/units/bulwark.service" 2>&1 | tee "$work/verify"
[ -s "$work/verify" ] && fail "systemd-analyze verify complains"
# ... and the check sees a bad directive.
sed 's/^ProtectSystem=strict$/ProtectSystem=sideways/' "$work/units/bulwark.service" \
  >"$work/units/planted.service"
SYSTEMD_LOG_LEVEL=notice systemd-analyze verify "$work/units/planted.service" 2>&1 \
  | grep 'protect system' >/dev/null || fail "systemd-analyze verify missed a bad directive"
echo "systemd-analyze verify: ok"
systemd-analyze security --offline=yes "$work/units/bulwark.service" 2>/dev/null | tail -1 || true

# -- stripped, with its debug information beside it ------------------------------------
program="$root/usr/bin/bulwark"
readelf -S "$program" | grep '\.debug_info' >/dev/null && fail "the packaged program is not stripped"
build_id="$(readelf -n "$program" | sed -n 's/.*Build ID: \([0-9a-f]*\).*/\1/p')"
[ -n "$build_id" ] || fail "the program has no build id"
dpkg-deb -x "$ddeb" "$work/dbg"
debug="$work/dbg/usr/lib/debug/.build-id/${build_id:0:2}/${build_id:2}.debug"
[ -f "$debug" ] || fail "no $debug in the debug package"
readelf -S "$debug" 2>/dev/null | grep '\.debug_info' >/dev/null || fail "$debug holds no debug information"
echo "stripped program, debug information in the dbgsym package: ok"

# -- the extracted program --------------------------------------------------------------
"$program" --version | tee "$work/version"
grep -q "$version" "$work/version" || fail "--version does not say $version"
# The demo finds the theme park's fleet installed beside the program.
"$program" demo --help | grep -F "$root/usr/share/bulwark/fleet.toml" >/dev/null \
  || fail "demo's default fleet is not the one beside the program"
"$program" demo --data "$work/park" >"$work/demo.log" 2>&1 || { tail -20 "$work/demo.log"; fail "demo"; }
"$program" verify --data "$work/park" | tee "$work/verify.log"
grep -q intact "$work/verify.log" || fail "verify does not say intact"
set +e
"$program" verify --data "$work/no-such-journal" >/dev/null 2>&1
missing=$?
set -e
[ "$missing" -ne 0 ] || fail "verify of a missing journal exited 0"
"$program" node --help | grep 'SIGHUP re-reads the console tokens' >/dev/null \
  || fail "node --help does not say what SIGHUP does"
# -- embedding: examples/host built against the package's headers, libraries and CMake package
cmake -S "$source/examples/host" -B "$work/host" -DCMAKE_PREFIX_PATH="$root/usr" >/dev/null
cmake --build "$work/host" -j 2 >/dev/null
"$work/host/bulwark_host" "$work/host-data" | tee "$work/host.log"
grep -q 'verified yes' "$work/host.log" || fail "the example host did not verify its journal"
echo "package_deb: ok"
