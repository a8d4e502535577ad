#!/usr/bin/env bash
# Test hosts for Agora's partition tests: each one a network namespace joined to this machine by
# a veth pair of its own, on a /24 of 10.200.0.0/16 that exists only on those veths. A process
# run in the namespace (`ip netns exec`) reaches the machine at 10.200.N.1 and is reached at
# 10.200.N.2; cutting the machine's end of the veth is a network partition, bringing it up heals it.
set -euo pipefail

readonly PREFIX=agora-
usage() {
  cat <<'EOF'
Usage: scripts/netns.sh <command> [args]

Commands:
  install              Install iproute2 (the `ip` command) if it is missing (needs root).
  available            Exit 0 if test hosts can be made here (root, `ip`, netns), else print why, exit 1.
  create NAME N        Make test host NAME (namespace agora-NAME) on 10.200.N.0/24, N in 1..254:
                       the machine's end is 10.200.N.1 (veth agh-N), the host's end 10.200.N.2.
                       Prints the host's address. An existing NAME is replaced.
  cut NAME N           Partition: the machine's end of the veth goes down (no packet either way).
  heal NAME N          Undo `cut`.
  exec NAME CMD...     Run CMD inside the test host.
  delete NAME          Remove the namespace (and with it both ends of its veth). Fine if absent.
  list                 The test hosts that exist (namespaces named agora-*).
EOF
}

die() {
  echo "netns.sh: $*" >&2
  exit 1
}

check_n() {
  [[ $1 =~ ^[0-9]+$ ]] && (($1 >= 1 && $1 <= 254)) || die "N must be 1..254, not '$1'"
}
check_name() {
  [[ $1 =~ ^[a-z0-9][a-z0-9-]{0,30}$ ]] || die "NAME must be [a-z0-9-], at most 31 characters, not '$1'"
}

cmd_install() {
  if command -v ip >/dev/null; then
    echo "iproute2 is already installed"
    return 0
  fi
  [[ $(id -u) -eq 0 ]] || die "installing needs root: sudo $0 install"
  if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
    apt-get -o DPkg::Lock::Timeout=600 update
  fi
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y iproute2 ||
    { apt-get -o DPkg::Lock::Timeout=600 update && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y iproute2; }
}

cmd_available() {
  [[ $(id -u) -eq 0 ]] || die "not root (network namespaces need CAP_NET_ADMIN)"
  command -v ip >/dev/null || die "the ip command is missing (run: scripts/netns.sh install)"
  local probe="${PREFIX}probe-$$"
  ip netns add "$probe" 2>/dev/null || die "cannot create a network namespace here"
  ip netns del "$probe"
}

cmd_create() {
  local name=$1 n=$2
  check_name "$name"
  check_n "$n"
  local ns="${PREFIX}${name}" host="agh-${n}" peer="agp-${n}"
  cmd_delete "$name" >/dev/null
  ip link del "$host" 2>/dev/null || true
  ip netns add "$ns"
  ip link add "$host" type veth peer name "$peer"
  ip link set "$peer" netns "$ns"
  ip addr add "10.200.${n}.1/24" dev "$host"
  ip link set "$host" up
  ip -n "$ns" link set lo up
  ip -n "$ns" link set "$peer" name eth0
  ip -n "$ns" addr add "10.200.${n}.2/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" route add default via "10.200.${n}.1"
  echo "10.200.${n}.2"
}

cmd_cut() {
  check_name "$1"
  check_n "$2"
  ip link set "agh-$2" down
}

cmd_heal() {
  check_name "$1"
  check_n "$2"
  ip link set "agh-$2" up
}

cmd_exec() {
  local name=$1
  shift
  check_name "$name"
  exec ip netns exec "${PREFIX}${name}" "$@"
}

cmd_delete() {
  check_name "$1"
  if ip netns list | awk '{print $1}' | grep -qx "${PREFIX}$1"; then
    ip netns del "${PREFIX}$1"
  fi
}

cmd_list() {
  ip netns list | awk '{print $1}' | grep "^${PREFIX}" || true
}

case "${1:-help}" in
install) cmd_install ;;
available) cmd_available ;;
create) (($# == 3)) || die "usage: create NAME N"; cmd_create "$2" "$3" ;;
cut) (($# == 3)) || die "usage: cut NAME N"; cmd_cut "$2" "$3" ;;
heal) (($# == 3)) || die "usage: heal NAME N"; cmd_heal "$2" "$3" ;;
exec) (($# >= 3)) || die "usage: exec NAME CMD..."; shift; cmd_exec "$@" ;;
delete) (($# == 2)) || die "usage: delete NAME"; cmd_delete "$2" ;;
list) cmd_list ;;
help | --help | -h) usage ;;
*) usage >&2; exit 2 ;;
esac
