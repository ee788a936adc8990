#!/usr/bin/env bash
# Rebuilds the plugins of tests/plugins/abi/v1.0 ... v1.4 against the SDK headers of those ABI
# versions, taken from the repository's history. The .so files are committed: they are what a
# plugin author built then, and the loader tests prove that this engine still loads and calls them.
# Usage: tests/plugins/abi/build-fixtures.sh [BUILD_DIR [VERSION...]]   (BUILD_DIR has
# lib/libtezgah_sdk.so; the versions default to all of them)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The last commit of each ABI version's headers.
declare -A commits=([1.0]=191044d [1.1]=e346024 [1.2]=1e0cc5b [1.3]=c64e80a [1.4]=b7376e1)
declare -A kinds=([1.0]="tool llm" [1.1]="tool llm" [1.2]="tool llm" [1.3]="channel" [1.4]="llm")
versions=("${@:2}")
[ ${#versions[@]} -gt 0 ] || versions=(1.0 1.1 1.2 1.3 1.4)
for version in "${versions[@]}"; do
  tag=${version/./-}
  mkdir -p "$work/$version" "$here/v$version"
  git -C "$root" archive "${commits[$version]}" plugin-sdk/include | tar -x -C "$work/$version"
  grep -q "kAbiMinor = ${version#1.}" "$work/$version/plugin-sdk/include/tezgah/sdk/abi.hpp"
  for kind in ${kinds[$version]}; do
    g++ -std=c++20 -O2 -fPIC -shared -fvisibility=hidden -s \
      -I "$work/$version/plugin-sdk/include" \
      -DFIXTURE_PLUGIN="\"old-$kind-$tag\"" -DFIXTURE_TOOL="\"old_echo_${tag/-/_}\"" \
      -DFIXTURE_ABI_MINOR="${version#1.}" \
      "$here/old_$kind.cpp" -o "$here/v$version/old-$kind.so" \
      -L "$build/lib" -ltezgah_sdk -lboost_json
    echo "built v$version/old-$kind.so (ABI $version)"
  done
done
