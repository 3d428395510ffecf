#!/usr/bin/env bash
# CI check of the Debian package (issue #18): build it, inspect it, verify and score the unit,
# lintian (when installed), install it on this machine, run both commands and the shipped
# example, then purge it and verify nothing is left. Run as root after `pnpm build`:
#   tools/release/check-deb.sh
# It refuses to run where portknock is already installed (it would replace and then purge it).
set -euo pipefail
cd "$(dirname "$0")/../.."

step() { printf '\n== %s\n' "$*"; }
die() {
  printf 'check-deb: %s\n' "$*" >&2
  exit 1
}

[ "$(id -u)" = 0 ] || die "run as root (dpkg -i and --purge)"
if dpkg -s portknock >/dev/null 2>&1; then
  die "portknock is already installed here; remove it first (this check purges it)"
fi

step "build"
node tools/release/deb.js
version=$(node -p 'require("./packages/knockd/package.json").version')
deb="release/portknock_${version}_$(dpkg --print-architecture).deb"
[ -f "$deb" ] || die "$deb was not built"
ls -l "$deb"

step "dpkg-deb --info"
dpkg-deb --info "$deb"

step "dpkg-deb --contents (outside the npm tree)"
contents=$(dpkg-deb --contents "$deb")
grep -v 'usr/lib/portknock/node_modules/' <<<"$contents"
for path in ./usr/bin/portknockd ./usr/bin/portknock \
  ./usr/share/man/man8/portknockd.8.gz ./usr/share/man/man1/portknock.1.gz \
  ./etc/portknock/knockdaemon.conf.example ./etc/portknock/knockclient.conf.example \
  ./lib/systemd/system/portknockd.service ./usr/share/doc/portknock/copyright \
  ./usr/lib/portknock/node_modules/@portknock/pcap/build/Release/portknock_pcap.node; do
  grep -q " ${path}\( ->.*\)\?$" <<<"$contents" || die "$deb lacks $path"
done
if grep -E ' root/root .*\.(d\.ts|map)$' <<<"$contents"; then
  die "$deb ships declarations or source maps"
fi

if command -v lintian >/dev/null 2>&1; then
  step "lintian (errors and warnings fail; every tag is counted)"
  lint_rc=0
  lint=$(lintian --display-info --pedantic --fail-on error,warning "$deb" 2>&1) || lint_rc=$?
  grep -v 'running with root privileges' <<<"$lint" | cut -d' ' -f1,3 | sort | uniq -c | sort -rn
  [ "$lint_rc" = 0 ] || die "lintian found errors or warnings: $lint"
else
  step "lintian: not installed, skipped"
fi

cleanup() {
  if dpkg -s portknock >/dev/null 2>&1; then
    dpkg --purge portknock >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

step "dpkg -i"
dpkg -i "$deb"
getent passwd portknock || die "postinst did not create the user portknock"
uid=$(getent passwd portknock | cut -d: -f3)

step "systemd-analyze verify"
man_check=--man=yes
command -v man >/dev/null 2>&1 || man_check=--man=no
systemd-analyze verify "$man_check" /lib/systemd/system/portknockd.service

step "systemd-analyze security --offline=yes"
security=$(systemd-analyze security --offline=yes /lib/systemd/system/portknockd.service 2>&1)
grep -F '✗' <<<"$security" || true
score=$(grep -o 'Overall exposure level for portknockd.service: [0-9.]* [A-Z]*' <<<"$security")
echo "$score"
# 2.x is "OK"; anything above 3.0 means the hardening regressed.
awk '{ exit !($(NF-1) <= 3.0) }' <<<"$score" || die "exposure above 3.0"

step "portknockd --version, portknock --version (as the user portknock)"
want=$version
got=$(runuser -u portknock -- portknockd --version)
[ "$got" = "knockd $want" ] || die "portknockd --version printed \"$got\", expected \"knockd $want\""
echo "$got"
runuser -u portknock -- portknockd -version
runuser -u portknock -- portknock --version

step "portknockd -check on the shipped example"
runuser -u portknock -- portknockd -check -conf /etc/portknock/knockdaemon.conf.example

step "portknock -test with the shipped client example"
ports=$(portknock -conf /etc/portknock/knockclient.conf.example -test -port 22 -client 192.0.2.7)
echo "$ports"
[ "$(tr ',' '\n' <<<"$ports" | wc -l)" = 14 ] || die "expected 14 ports, got: $ports"

step "a knock through the installed tree: portknock -logtofile, portknockd -test -replay"
scratch=$(mktemp -d)
chmod 755 "$scratch"
portknock -conf /etc/portknock/knockclient.conf.example -logtofile -logfile "$scratch/fw.log" \
  -port 22 -client 192.0.2.7
sed "s#^statefile .*#statefile = $scratch/state.json#" \
  /etc/portknock/knockdaemon.conf.example >"$scratch/knockdaemon.conf"
replay=$(portknockd -test -replay "$scratch/fw.log" -conf "$scratch/knockdaemon.conf" 2>&1)
rm -rf "$scratch"
grep -E '^knocksAccepted 1$' <<<"$replay" || die "the replayed knock was not accepted: $replay"

step "an action as the service runs it: user portknock, only CAP_NET_ADMIN + CAP_NET_RAW"
# In a network namespace of this check (the host's firewall is not touched): the example's
# nft action, run by portknockd -replay as the user portknock with the unit's ambient
# capabilities, adds the knocking client to the set; without the capabilities it cannot.
ns="pkdeb-check-$$"
scratch=$(mktemp -d)
chmod 755 "$scratch"
install -d -o portknock -g portknock -m 700 "$scratch/state" "$scratch/state-nocap"
ip netns add "$ns"
netns_cleanup() {
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$scratch"
  cleanup
}
trap netns_cleanup EXIT
ip netns exec "$ns" nft -f - <<'NFT'
table inet portknock {
  set allowed4 { type ipv4_addr . inet_service; flags timeout; }
}
NFT
portknock -conf /etc/portknock/knockclient.conf.example -logtofile -logfile "$scratch/fw.log" \
  -port 22 -client 192.0.2.7
as_service() {
  local caps=$1 state=$2
  sed "s#^statefile .*#statefile = $scratch/$state/state.json#" \
    /etc/portknock/knockdaemon.conf.example >"$scratch/$state.conf"
  ip netns exec "$ns" setpriv --reuid portknock --regid portknock --init-groups \
    --inh-caps "$caps" --ambient-caps "$caps" --bounding-set "$caps" --no-new-privs -- \
    portknockd -replay "$scratch/fw.log" -conf "$scratch/$state.conf" 2>&1 || true
}
nocap=$(as_service -all state-nocap)
grep -q 'action.failed' <<<"$nocap" || die "without CAP_NET_ADMIN the nft action did not fail: $nocap"
ip netns exec "$ns" nft list set inet portknock allowed4 | grep -q 192.0.2.7 &&
  die "the set has the client although the action had no capability"
echo "without capabilities: action.failed (as it must)"
withcap=$(as_service -all,+net_admin,+net_raw state)
grep -E 'action\.(finished|failed)' <<<"$withcap"
ip netns exec "$ns" nft list set inet portknock allowed4 | grep '192.0.2.7 . 22' ||
  die "the nft action did not add 192.0.2.7 . 22: $withcap"

step "the daemon as the service runs it: ready, then SIGTERM exits 0"
# The example's own source (journalctl -k -f), as portknock with the unit's capabilities and
# its journal group; the statefile in a scratch directory.
install -d -o portknock -g portknock -m 700 "$scratch/state-run"
sed "s#^statefile .*#statefile = $scratch/state-run/state.json#" \
  /etc/portknock/knockdaemon.conf.example >"$scratch/run.conf"
journal_gid=$(getent group systemd-journal | cut -d: -f3)
caps=-all,+net_admin,+net_raw
ip netns exec "$ns" setpriv --reuid portknock --regid portknock \
  ${journal_gid:+--groups "$journal_gid"} --inh-caps "$caps" --ambient-caps "$caps" \
  --bounding-set "$caps" --no-new-privs -- \
  portknockd -conf "$scratch/run.conf" >"$scratch/run.log" 2>&1 &
daemon=$!
for _ in $(seq 300); do
  grep -q ' INFO ready ' "$scratch/run.log" && break
  kill -0 "$daemon" 2>/dev/null || break
  sleep 0.1
done
grep ' INFO ready ' "$scratch/run.log" || die "portknockd did not get ready: $(cat "$scratch/run.log")"
kill -TERM "$daemon"
daemon_rc=0
wait "$daemon" || daemon_rc=$?
[ "$daemon_rc" = 0 ] || die "portknockd exited $daemon_rc on SIGTERM: $(cat "$scratch/run.log")"
echo "SIGTERM: exit 0"
ip netns del "$ns"
rm -rf "$scratch"
trap cleanup EXIT

step "the pcap addon loads from the installed tree (a missing device, nothing captured)"
node --input-type=module -e '
import { openCapture } from "/usr/lib/portknock/node_modules/@portknock/pcap/dist/index.js";
try { openCapture({ interfaces: ["pkdeb-none0"], filter: "" }); process.exit(1); }
catch (e) { console.log(e.code); process.exit(e.code === "PCAP_OPEN_FAILED" ? 0 : 1); }' ||
  die "the libpcap addon did not load"

step "man -w"
if command -v man >/dev/null 2>&1; then
  man -w portknockd portknock
  man portknockd 2>&1 >/dev/null | grep . && die "man portknockd printed warnings"
else
  echo "man-db not installed, skipped"
fi

step "dpkg -i again (the upgrade path: the user is kept, nothing started)"
dpkg -i "$deb" >/dev/null
[ "$(getent passwd portknock | cut -d: -f3)" = "$uid" ] || die "the user portknock changed"

step "dpkg -r: the program goes, the conffiles stay"
dpkg -r portknock
[ -e /usr/bin/portknockd ] && die "/usr/bin/portknockd is left after dpkg -r"
[ -f /etc/portknock/knockdaemon.conf.example ] || die "dpkg -r removed a conffile"

step "dpkg --purge: conffiles, the admin's configuration and the state go"
# What an admin would have made: the daemon's configuration and its state.
install -m 640 -g portknock /etc/portknock/knockdaemon.conf.example /etc/portknock/knockdaemon.conf
install -d -o portknock -g portknock -m 700 /var/lib/portknock
echo '{}' >/var/lib/portknock/state.json
dpkg --purge portknock
trap - EXIT
left=()
for path in /usr/bin/portknockd /usr/bin/portknock /usr/lib/portknock /etc/portknock \
  /lib/systemd/system/portknockd.service /usr/share/doc/portknock /var/lib/portknock \
  /usr/share/man/man8/portknockd.8.gz /usr/share/man/man1/portknock.1.gz; do
  if [ -e "$path" ] || [ -L "$path" ]; then left+=("$path"); fi
done
[ "${#left[@]}" = 0 ] || die "left after purge: ${left[*]}"
dpkg -s portknock >/dev/null 2>&1 && die "dpkg still knows portknock"
echo "nothing left (the system user portknock stays, as Debian does: deluser --system portknock)"
echo
echo "check-deb: OK ($deb, $(du -k "$deb" | cut -f1) KiB)"
