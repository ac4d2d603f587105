#!/usr/bin/env bash
# Print the folder holding a working Pulumi CLI, building it first when needed.
#
# Order: a `pulumi` already on PATH wins. Otherwise the CLI is built from the Go
# module proxy at PULUMI_VERSION into a cache folder outside the repository
# (one build per machine and version), together with the two Python launchers
# that ship in the sdk/v3 module and the project's Python language host.
set -euo pipefail

PULUMI_VERSION="${PULUMI_VERSION:-3.276.0}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache_root="${AMITOOLS_PULUMI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/amitools-pulumi}"
bin_dir="$cache_root/pulumi-v$PULUMI_VERSION/bin"

log() { printf 'pulumi-toolchain: %s\n' "$*" >&2; }

if [[ "${AMITOOLS_PULUMI_IGNORE_PATH:-}" != "1" ]] && command -v pulumi >/dev/null 2>&1; then
  dirname "$(command -v pulumi)"
  exit 0
fi

install_launchers() {
  # The language host and the dynamic-provider launcher are small scripts; the
  # two from the sdk/v3 module are copied, read-only in the module cache.
  local sdk_dir="$1"
  install -m 0755 "$sdk_dir/python/cmd/pulumi-language-python-exec" "$bin_dir/"
  install -m 0755 "$sdk_dir/python/dist/pulumi-resource-pulumi-python" "$bin_dir/"
  install -m 0755 "$here/pulumi-language-python" "$bin_dir/"
}

if [[ -x "$bin_dir/pulumi" && -x "$bin_dir/pulumi-resource-pulumi-python" \
      && -x "$bin_dir/pulumi-language-python-exec" ]]; then
  # Refresh the language host from the repository: it changes with the project.
  if ! cmp -s "$here/pulumi-language-python" "$bin_dir/pulumi-language-python"; then
    install -m 0755 "$here/pulumi-language-python" "$bin_dir/"
  fi
  echo "$bin_dir"
  exit 0
fi

command -v go >/dev/null 2>&1 || {
  log "no 'pulumi' on PATH and no Go toolchain to build it; install Go or Pulumi"
  exit 1
}

log "building pulumi v$PULUMI_VERSION into $bin_dir (once per machine)"
start=$(date +%s)
mkdir -p "$bin_dir"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

# pkg/v3's go.mod replaces sdk/v3 with a sibling folder of the monorepo, so
# `go install pkg@version` is rejected. A wrapper module that requires both at
# the release, plus pkg's non-local replace lines, builds the same command.
go mod init amitools-pulumi-toolchain >/dev/null 2>&1
go mod download "github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION" \
  "github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION"
modcache="$(go env GOMODCACHE)"
pkg_dir="$modcache/github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION"
sdk_dir="$modcache/github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION"
go_line="$(grep -E '^go [0-9.]+' "$pkg_dir/go.mod" | head -n 1)"

{
  echo "module amitools-pulumi-toolchain"
  echo
  echo "$go_line"
  echo
  echo "require ("
  echo "  github.com/pulumi/pulumi/pkg/v3 v$PULUMI_VERSION"
  echo "  github.com/pulumi/pulumi/sdk/v3 v$PULUMI_VERSION"
  echo ")"
  # Single-line replace directives whose target is a module, not a path.
  grep -E '^replace [^ ]+ => [^./][^ ]* v[^ ]+$' "$pkg_dir/go.mod" || true
} >go.mod
cat >tools.go <<'GO'
//go:build tools

package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
GO
go mod tidy >/dev/null
version_pkg="github.com/pulumi/pulumi/sdk/v3/go/common/version"
go build -trimpath -ldflags "-s -w -X $version_pkg.Version=v$PULUMI_VERSION" \
  -o "$bin_dir/pulumi.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
mv "$bin_dir/pulumi.tmp" "$bin_dir/pulumi"
install_launchers "$sdk_dir"

log "built in $(( $(date +%s) - start )) s; $(du -sh "$bin_dir" | cut -f1) in $bin_dir"
echo "$bin_dir"
