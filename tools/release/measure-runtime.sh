#!/usr/bin/env bash
# The figures behind "the system's Node.js, not a carried runtime" (tools/release/README.md):
# the .deb's size and start-up against a Node single-executable application (SEA) of the knock
# client. Run after `pnpm build`; fetches postject from the npm registry (npx) once. Not in CI.
#   tools/release/measure-runtime.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-15}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

node tools/release/deb.js --out "$work" >/dev/null
deb=$(ls "$work"/portknock_*.deb)
mkdir "$work/root"
dpkg-deb -x "$deb" "$work/root"

# The SEA: knock's CLI as one CommonJS file (Node 20's SEA runs one CommonJS script), with
# import.meta.url pointing where the package's files would be installed beside it.
mkdir -p "$work/sea/bin/lib/knock/dist"
cp packages/knock/package.json "$work/sea/bin/lib/knock/"
cp -r packages/knock/man "$work/sea/bin/lib/knock/"
cat >"$work/entry.mjs" <<EOF
import { main } from "$PWD/packages/knock/dist/index.js";
main(process.argv.slice(2), process).then((code) => { process.exitCode = code; });
EOF
cat >"$work/shim.js" <<'EOF'
export const importMetaUrl = require("node:url").pathToFileURL(
  require("node:path").join(process.execPath, "../lib/knock/dist/cli.js"),
).href;
EOF
packages/knockd/node_modules/.bin/esbuild "$work/entry.mjs" --bundle --platform=node \
  --format=cjs --target=node20.19 --outfile="$work/knock.cjs" --external:raw-socket \
  --define:import.meta.url=importMetaUrl --inject:"$work/shim.js" --log-level=error
printf '{"main":"%s","output":"%s","disableExperimentalSEAWarning":true,"useCodeCache":true}\n' \
  "$work/knock.cjs" "$work/sea.blob" >"$work/sea.json"
node --experimental-sea-config "$work/sea.json" >/dev/null
cp "$(command -v node)" "$work/sea/bin/knock"
npx --yes postject@1.0.0-alpha.6 "$work/sea/bin/knock" NODE_SEA_BLOB "$work/sea.blob" \
  --sentinel-fuse NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2 >/dev/null 2>&1
"$work/sea/bin/knock" -version >/dev/null

echo "sizes (bytes)"
printf '  %-34s %12d\n' ".deb" "$(stat -c %s "$deb")"
printf '  %-34s %12d\n' ".deb installed (du -sb)" "$(du -sb "$work/root" | cut -f1)"
printf '  %-34s %12d\n' "SEA knock binary" "$(stat -c %s "$work/sea/bin/knock")"
printf '  %-34s %12d\n' "SEA knock binary, xz -6" "$(xz -6 -T1 -c "$work/sea/bin/knock" | wc -c)"

# CPU time (user + sys) of one start, median of $runs: robust on a loaded machine.
cpu_ms() {
  local vals=() t
  for _ in $(seq "$runs"); do
    t=$({ TIMEFORMAT='%U %S'; time "$@" >/dev/null 2>&1; } 2>&1)
    vals+=("$(awk '{ printf "%d", ($1 + $2) * 1000 }' <<<"$t")")
  done
  printf '%s\n' "${vals[@]}" | sort -n | sed -n "$(((runs + 1) / 2))p"
}
echo "start-up, CPU ms (median of $runs)"
printf '  %-34s %6d\n' "node -e 0" "$(cpu_ms node -e 0)"
printf '  %-34s %6d\n' ".deb portknockd -version" "$(cpu_ms "$work/root/usr/bin/portknockd" -version)"
printf '  %-34s %6d\n' ".deb portknock -version" "$(cpu_ms "$work/root/usr/bin/portknock" -version)"
printf '  %-34s %6d\n' "SEA knock -version" "$(cpu_ms "$work/sea/bin/knock" -version)"
printf '  %-34s %6d\n' "node + the same bundle -h" "$(cpu_ms node "$work/knock.cjs" -h)"
printf '  %-34s %6d\n' "SEA knock -h" "$(cpu_ms "$work/sea/bin/knock" -h)"
