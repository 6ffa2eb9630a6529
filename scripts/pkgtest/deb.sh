#!/usr/bin/env bash
# End-to-end test of the docker-tls-plugin .deb, as root: dpkg -i installs
# /usr/libexec/docker/cli-plugins/docker-tls, `docker tls version` works for
# root and for an unprivileged user with an empty home, and dpkg -r removes
# every file the package installed. It runs in a private mount namespace
# over copies of /var/lib/dpkg and /usr/libexec, so the machine's package
# database and plugin directory are never changed, even if the test is
# killed; inside it an EXIT trap removes the package whatever happens, and
# the test refuses to run when docker-tls-plugin is already installed.
set -euo pipefail
deb=${1:?usage: scripts/pkgtest/deb.sh dist/docker-tls-plugin_VERSION_ARCH.deb}
deb=$(readlink -f "$deb")
if [ -z "${DOCKER_TLS_DEB_NS:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "deb e2e: FAIL: must run as root (dpkg -i)" >&2; exit 1; }
	ns=$(mktemp -d)
	trap 'rm -rf "$ns"' EXIT
	cp -a /var/lib/dpkg "$ns/dpkg"
	cp -a /usr/libexec "$ns/libexec"
	: >"$ns/dpkg.log"
	DOCKER_TLS_DEB_NS=$ns unshare -m --propagation private bash -c '
		set -e
		mount --bind "$DOCKER_TLS_DEB_NS/dpkg" /var/lib/dpkg
		mount --bind "$DOCKER_TLS_DEB_NS/libexec" /usr/libexec
		[ -e /var/log/dpkg.log ] && mount --bind "$DOCKER_TLS_DEB_NS/dpkg.log" /var/log/dpkg.log
		exec bash "$0" "$1"' "$0" "$deb"
	exit $?
fi
pkg=docker-tls-plugin
fail() { echo "deb e2e: FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "must run as root (dpkg -i)"
command -v docker >/dev/null || fail "no docker client on PATH"
if dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
	fail "$pkg is already installed on this machine; not touching it"
fi
version=$(dpkg-deb -f "$deb" Version)
arch=$(dpkg-deb -f "$deb" Architecture)
[ "$arch" = "$(dpkg --print-architecture)" ] || fail "$deb is for $arch, this machine is $(dpkg --print-architecture)"

work=$(mktemp -d)
installed=
cleanup() {
	rc=$?
	if [ -n "$installed" ] && dpkg-query -W "$pkg" >/dev/null 2>&1; then
		dpkg -r "$pkg" >/dev/null 2>&1 || dpkg --purge --force-all "$pkg" >/dev/null 2>&1 || true
	fi
	rm -rf "$work"
	exit $rc
}
trap cleanup EXIT INT TERM

# What the package holds: its files (not directories) and every path.
dpkg-deb -c "$deb" | awk '{print $NF}' | sed 's#^\./#/#; s#/$##' | grep -v '^$' | sort >"$work/paths"
dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {print $NF}' | sed 's#^\./#/#' | sort >"$work/files"
grep -qx /usr/libexec/docker/cli-plugins/docker-tls "$work/files" || fail "the package does not hold /usr/libexec/docker/cli-plugins/docker-tls"
# Paths present before the install (shared directories like /usr) stay.
while read -r p; do [ -e "$p" ] || [ -L "$p" ] && echo "$p"; done <"$work/paths" | sort >"$work/before" || true
while read -r f; do [ -e "$f" ] && fail "$f exists before the install"; done <"$work/files"

installed=1
dpkg -i "$deb" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg -i $deb"; }
dpkg-query -L "$pkg" | sort >"$work/listed"
while read -r f; do grep -qx "$f" "$work/listed" || fail "dpkg does not list $f"; done <"$work/files"
[ "$(stat -c '%a %U' /usr/libexec/docker/cli-plugins/docker-tls)" = "755 root" ] || fail "plugin mode/owner: $(stat -c '%a %U' /usr/libexec/docker/cli-plugins/docker-tls)"

check_version() { # who, then the command's environment
	local who=$1; shift
	local out
	out=$("$@" docker tls version 2>&1) || fail "docker tls version as $who: $out"
	case "$out" in *"$version"*) ;; *) fail "docker tls version as $who does not print $version: $out" ;; esac
	echo "deb e2e: docker tls version as $who: ok"
}
# root, with a home without ~/.docker (so the system plugin dir is used, not
# a plugin installed by make install in root's own ~/.docker/cli-plugins).
mkdir -p "$work/roothome"
check_version "root" env -i PATH="$PATH" HOME="$work/roothome"
# an unprivileged user with an empty home directory, and with HOME empty.
install -d -o nobody "$work/empty"
chmod 755 "$work"
check_version "nobody (empty home)" setpriv --reuid=nobody --regid=nogroup --clear-groups env -i PATH="$PATH" HOME="$work/empty"
[ -z "$(ls -A "$work/empty")" ] || echo "deb e2e: note: docker created $(ls -A "$work/empty") in the empty home"
check_version "nobody (HOME unset)" setpriv --reuid=nobody --regid=nogroup --clear-groups env -i PATH="$PATH"

# Shell completion of `docker tls …` is docker's own (docker completion
# bash|zsh|fish, cobra): it asks the installed plugin through __complete.
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups env -i PATH="$PATH" HOME="$work/empty" docker __complete tls doc 2>&1) ||
	fail "docker __complete tls doc: $out"
case "$out" in doctor*) echo "deb e2e: docker __complete tls doc: ok" ;; *) fail "docker __complete tls doc does not offer doctor: $out" ;; esac

dpkg -r "$pkg" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg -r $pkg"; }
installed=
while read -r p; do
	if [ -e "$p" ] || [ -L "$p" ]; then
		grep -qx "$p" "$work/before" || fail "dpkg -r left $p behind"
	fi
done <"$work/paths"
dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' && fail "$pkg still installed after dpkg -r"
echo "deb e2e: $pkg $version: dpkg -i, docker tls version (root, nobody), dpkg -r removed all $(wc -l <"$work/files") files: 1 passed, 0 failed"
