#!/usr/bin/env bash
# Sets up the Docker engine Agora's docker containerizer and its tests use:
#   install  Debian's docker.io and busybox-static, when missing (root)
#   start    dockerd in the background when `docker info` does not answer
#   image    agora/busybox:latest, imported from a busybox-static root filesystem
#   all      install + start + image
#   stop     stop the dockerd this script started
set -euo pipefail

IMAGE="${AGORA_TEST_IMAGE:-agora/busybox:latest}"
LOG="${AGORA_DOCKERD_LOG:-/var/log/agora-dockerd.log}"
PIDFILE="${AGORA_DOCKERD_PIDFILE:-/var/run/agora-dockerd.pid}"
START_TIMEOUT="${AGORA_DOCKERD_TIMEOUT:-60}"
# Extra flags for dockerd, e.g. AGORA_DOCKERD_FLAGS="--iptables=false --bridge=none".
DOCKERD_FLAGS="${AGORA_DOCKERD_FLAGS:-}"

usage() {
  cat <<EOF
usage: $(basename "$0") <command>

commands:
  install   install Debian's docker.io and busybox-static when missing (needs root; idempotent)
  start     start dockerd in the background unless \`docker info\` already answers;
            logs to $LOG, waits up to ${START_TIMEOUT}s for the engine
  image     build $IMAGE (static busybox root filesystem, via \`docker import\`) when absent
  all       install, start, image
  stop      stop the dockerd started by \`start\` (pid in $PIDFILE)
  --help    this text

environment:
  AGORA_DOCKERD_FLAGS     extra dockerd flags (default: none)
  AGORA_DOCKERD_LOG       dockerd log file (default: /var/log/agora-dockerd.log)
  AGORA_DOCKERD_TIMEOUT   seconds to wait for the engine (default: 60)
  AGORA_TEST_IMAGE        image name (default: agora/busybox:latest)
EOF
}

log() { echo "docker.sh: $*" >&2; }
die() {
  log "error: $*"
  exit 1
}

need_root() {
  [[ "$(id -u)" -eq 0 ]] || die "'$1' needs root (run it with sudo)"
}

busybox_bin() {
  # busybox-static installs /bin/busybox; on merged-/usr systems it is also /usr/bin/busybox.
  local b
  for b in /bin/busybox /usr/bin/busybox; do
    if [[ -x "$b" ]] && file_is_static "$b"; then
      echo "$b"
      return 0
    fi
  done
  return 1
}

file_is_static() {
  # A dynamically linked busybox would need its libraries inside the image.
  if command -v ldd >/dev/null 2>&1; then
    ! ldd "$1" >/dev/null 2>&1
  else
    return 0
  fi
}

cmd_install() {
  local missing=()
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  busybox_bin >/dev/null || missing+=(busybox-static)
  if [[ ${#missing[@]} -eq 0 ]]; then
    log "docker.io and busybox-static already installed"
    return 0
  fi
  need_root install
  export DEBIAN_FRONTEND=noninteractive
  # Update the package lists only when they are absent or the install fails without an update.
  if [[ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e '^lock$' -e '^partial$' || true)" ]]; then
    apt-get update -qq
  fi
  if ! apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
  log "installed: ${missing[*]}"
}

engine_up() {
  docker info >/dev/null 2>&1
}

cmd_start() {
  if engine_up; then
    log "docker engine already running"
    return 0
  fi
  command -v dockerd >/dev/null 2>&1 || die "dockerd not found: run '$0 install'"
  need_root start
  mkdir -p "$(dirname "$LOG")"
  log "starting dockerd (log: $LOG)"
  # A stale pid file from a dockerd that died keeps a new one from starting.
  if [[ -f /var/run/docker.pid ]] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    rm -f /var/run/docker.pid
  fi
  # shellcheck disable=SC2086 # DOCKERD_FLAGS is a list of flags
  setsid nohup dockerd $DOCKERD_FLAGS >>"$LOG" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  local pid waited=0
  pid=$(cat "$PIDFILE")
  while ! engine_up; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$LOG" >&2 || true
      die "dockerd exited while starting; see $LOG (try AGORA_DOCKERD_FLAGS='--iptables=false')"
    fi
    if ((waited >= START_TIMEOUT)); then
      tail -n 20 "$LOG" >&2 || true
      die "dockerd did not answer within ${START_TIMEOUT}s; see $LOG"
    fi
    sleep 1
    waited=$((waited + 1))
  done
  log "docker engine up (pid $pid)"
}

cmd_stop() {
  local pid=""
  # Only the dockerd this script started: an engine run by systemd or by hand is left alone.
  [[ -f "$PIDFILE" ]] && pid=$(cat "$PIDFILE")
  if [[ -z "$pid" ]] || ! kill -0 "$pid" 2>/dev/null; then
    log "no running dockerd started by this script"
    rm -f "$PIDFILE"
    return 0
  fi
  need_root stop
  kill -TERM "$pid"
  local waited=0
  while kill -0 "$pid" 2>/dev/null; do
    if ((waited >= 30)); then
      log "dockerd (pid $pid) still running after 30s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 1
    waited=$((waited + 1))
  done
  rm -f "$PIDFILE"
  log "dockerd stopped"
}

cmd_image() {
  engine_up || die "the docker engine does not answer: run '$0 start'"
  if docker image inspect "$IMAGE" >/dev/null 2>&1; then
    log "$IMAGE already present"
    return 0
  fi
  local bb
  bb=$(busybox_bin) || die "no static busybox found: run '$0 install' (package busybox-static)"
  local root
  root=$(mktemp -d /tmp/agora-busybox-rootfs.XXXXXX)
  # shellcheck disable=SC2064 # expand $root now
  trap "rm -rf '$root'" EXIT
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,proc,sys,dev,var/www,mnt/mesos/sandbox}
  chmod 1777 "$root/tmp"
  cp "$bb" "$root/bin/busybox"
  chmod 755 "$root/bin/busybox"
  local applet
  while read -r applet; do
    [[ -n "$applet" && "$applet" != busybox ]] || continue
    ln -sf busybox "$root/bin/$applet"
  done < <("$bb" --list)
  cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
  cat >"$root/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
  echo "agora" >"$root/var/www/index.html"
  tar -C "$root" -c . | docker import \
    -c 'CMD ["/bin/sh"]' \
    -c 'ENV PATH=/bin:/sbin:/usr/bin:/usr/sbin' \
    -m 'Agora test image: static busybox' \
    - "$IMAGE" >/dev/null
  log "built $IMAGE"
}

main() {
  local cmd="${1:-}"
  case "$cmd" in
  install) cmd_install ;;
  start) cmd_start ;;
  image) cmd_image ;;
  all)
    cmd_install
    cmd_start
    cmd_image
    ;;
  stop) cmd_stop ;;
  -h | --help | help) usage ;;
  "")
    usage >&2
    exit 2
    ;;
  *)
    log "unknown command: $cmd"
    usage >&2
    exit 2
    ;;
  esac
}

main "$@"
