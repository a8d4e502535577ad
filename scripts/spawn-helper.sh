#!/usr/bin/env bash
# The launcher's spawn helper (agora-spawn, agent/launcher/spawn-helper.c): a C compiler to build
# it, and the build itself (npm run build does it too). See docs/containerizers.md.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  cat <<'USAGE'
Usage: scripts/spawn-helper.sh <command>

Commands:
  install   Install a C compiler and the C library headers (Debian: gcc, libc6-dev) if cc is missing (needs root).
  build     Build dist/agent/launcher/agora-spawn (after `npx tsc -p tsconfig.json`).
USAGE
}

cmd_install() {
  if command -v cc >/dev/null && [[ -e /usr/include/stdio.h ]]; then
    echo "a C compiler is already installed"
    return 0
  fi
  [[ $(id -u) -eq 0 ]] || { echo "spawn-helper.sh: installing needs root: sudo $0 install" >&2; exit 1; }
  if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
    apt-get -o DPkg::Lock::Timeout=600 update
  fi
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y gcc libc6-dev ||
    { apt-get -o DPkg::Lock::Timeout=600 update && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y gcc libc6-dev; }
}

case "${1:-}" in
  install) cmd_install ;;
  build) node scripts/build-spawn-helper.mjs ;;
  -h | --help | help | '') usage ;;
  *) usage >&2; exit 2 ;;
esac
