#!/usr/bin/env bash
# Builds the pinned Docker, containerd and registry binaries that the e2e
# matrix runs beside Debian's dockerd 20.10, once, into a cache keyed by
# version (git-ignored):
#
#   $E2E_CACHE/dockerd-v28.5.2/dockerd
#   $E2E_CACHE/containerd-v2.4.2/{containerd,ctr}
#   $E2E_CACHE/registry-v3.0.0/registry
#
# (versions from scripts/e2e/versions.env; E2E_CACHE defaults to .cache/e2e).
# A binary already in the cache is not rebuilt. Everything comes through the
# Go module proxy (no git clones); upstream source is copied to a temp dir,
# built there and removed, never into the repository. Builds happen in a
# temp dir and are renamed into place, so an interrupted build leaves no
# half-made cache entry. Exit status 1 names what could not be built.
set -euo pipefail
cd "$(dirname "$0")/../.."

# shellcheck source=versions.env
. scripts/e2e/versions.env
CACHE=${E2E_CACHE:-$PWD/.cache/e2e}
GO=${GO:-go}
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=${GOTOOLCHAIN:-local}

mkdir -p "$CACHE"
failed=()

# build NAME VERSION BINARIES... -- runs build_NAME TMPDIR VERSION unless all
# BINARIES are already in $CACHE/NAME-VERSION.
build() {
  local name=$1 version=$2; shift 2
  local dest="$CACHE/$name-$version" have=1 b
  for b in "$@"; do [ -x "$dest/$b" ] || have=0; done
  if [ $have = 1 ]; then
    echo "build-binaries: $name $version: cached in $dest"
    return 0
  fi
  local tmp start=$SECONDS
  tmp=$(mktemp -d "$CACHE/.build-$name-XXXXXX")
  echo "build-binaries: building $name $version into $dest"
  if ! ( "build_$name" "$tmp" "$version" ) >"$tmp.log" 2>&1; then
    echo "build-binaries: FAILED to build $name $version; last lines of $tmp.log:" >&2
    tail -n 20 "$tmp.log" >&2
    rm -rf "$tmp"
    failed+=("$name $version")
    return 0
  fi
  for b in "$@"; do
    [ -x "$tmp/out/$b" ] || { echo "build-binaries: $name $version: no $b after the build" >&2; rm -rf "$tmp"; failed+=("$name $version"); return 0; }
  done
  rm -rf "$dest"
  mv "$tmp/out" "$dest"
  rm -rf "$tmp" "$tmp.log"
  echo "build-binaries: $name $version built in $((SECONDS - start))s"
}

# dockerd from moby's module source: the module's own go.mod is empty
# (+incompatible), its real dependencies are in vendor.mod/vendor.sum.
build_dockerd() {
  local tmp=$1 version=$2 dir json
  json=$("$GO" mod download -json "github.com/docker/docker@$version+incompatible" || true)
  dir=$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] && [ -d "$dir" ] || { echo "go mod download github.com/docker/docker@$version+incompatible gave no source directory:"; printf '%s\n' "$json"; return 1; }
  cp -r "$dir" "$tmp/src"
  chmod -R u+w "$tmp/src"
  cd "$tmp/src"
  cp vendor.mod go.mod
  cp vendor.sum go.sum
  rm -rf vendor # not in the module zip, but never build against a stale one
  "$GO" build -trimpath -o "$tmp/out/dockerd" \
    -tags 'exclude_graphdriver_btrfs exclude_graphdriver_devicemapper' \
    -ldflags "-X github.com/docker/docker/dockerversion.Version=${version#v} -X github.com/docker/docker/dockerversion.GitCommit=$version" \
    ./cmd/dockerd
}

build_containerd() {
  local tmp=$1 version=$2
  GOBIN="$tmp/out" "$GO" install -trimpath \
    -ldflags "-X github.com/containerd/containerd/v2/version.Version=$version" \
    "github.com/containerd/containerd/v2/cmd/containerd@$version" \
    "github.com/containerd/containerd/v2/cmd/ctr@$version"
}

build_registry() {
  local tmp=$1 version=$2
  GOBIN="$tmp/out" "$GO" install -trimpath \
    -ldflags "-X github.com/distribution/distribution/v3/version.version=$version" \
    "github.com/distribution/distribution/v3/cmd/registry@$version"
}

want=${*:-dockerd containerd registry}
for w in $want; do
  case $w in
    dockerd) build dockerd "$DOCKERD_VERSION" dockerd ;;
    containerd) build containerd "$CONTAINERD_VERSION" containerd ctr ;;
    registry) build registry "$REGISTRY_VERSION" registry ;;
    *) echo "build-binaries: unknown component $w (dockerd, containerd, registry)" >&2; exit 2 ;;
  esac
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "build-binaries: could not build: ${failed[*]} (the e2e cells that need them will fail)" >&2
  exit 1
fi
