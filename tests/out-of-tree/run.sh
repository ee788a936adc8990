#!/usr/bin/env bash
# Builds a tool plugin outside the repository against the installed SDK, then checks that the
# engine loads it, lists it, and accepts a tenant that enables it (with and without valid config).
# Usage: run.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== installing the SDK into $work/prefix"
cmake --install "$build" --prefix "$work/prefix" --component sdk >/dev/null
echo "== building the plugin out of tree"
cmake -S "$src/tests/out-of-tree/hello-tool" -B "$work/plugin-build" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_BUILD_TYPE=Release -DTEZGAH_PLUGIN_OUTPUT_DIR="$work/plugins" >/dev/null
cmake --build "$work/plugin-build" >/dev/null
test -f "$work/plugins/tool-greeting.so" || { echo "FAIL: tool-greeting.so was not built"; exit 1; }

echo "== the engine lists it"
listing=$("$build/bin/tezgah" plugins --plugins "$work/plugins")
echo "$listing"
abi=$("$build/bin/tezgah" --version | sed -n 's/.*plugin ABI \([0-9.]*\).*/\1/p')
grep -q "^greeting  kind=tool  version=1.0.0  abi=$abi" <<<"$listing" || { echo "FAIL: greeting not listed with ABI $abi"; exit 1; }
grep -q "config salutation (string, default \"Merhaba\")" <<<"$listing" || { echo "FAIL: config key not listed"; exit 1; }

echo "== a tenant enables it next to the built-in plugins"
mkdir -p "$work/tenants/kitap-evi/data"
cat >"$work/tenants/kitap-evi/tenant.json" <<'JSON'
{"id": "kitap-evi", "name": "Kitap Evi", "llm": {"provider": "local"},
 "tools": ["catalog", {"name": "greeting", "salutation": "Selam"}]}
JSON
"$build/bin/tezgah" check "$work/tenants" --plugins "$build/lib/tezgah/plugins:$work/plugins"

echo "== a wrong config value is named"
sed -i 's/"salutation": "Selam"/"salutation": 7/' "$work/tenants/kitap-evi/tenant.json"
if out=$("$build/bin/tezgah" check "$work/tenants" --plugins "$build/lib/tezgah/plugins:$work/plugins" 2>/dev/null); then
  echo "FAIL: check accepted a wrong config"; exit 1
fi
echo "$out"
grep -q "tenant.json: tools\[1\].salutation: expected a string, got a number" <<<"$out" || { echo "FAIL: problem not named"; exit 1; }
echo "out-of-tree plugin: ok"
