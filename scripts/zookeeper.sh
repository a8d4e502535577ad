#!/usr/bin/env bash
# Install, start, stop and inspect a throwaway standalone ZooKeeper server for Agora's
# development and tests, using Debian's `zookeeper` package and running java directly (no systemd).
set -euo pipefail

readonly ZK_JAR=/usr/share/java/zookeeper.jar
readonly DEFAULT_PORT=2181
readonly START_TIMEOUT_S=${AGORA_ZK_START_TIMEOUT:-60}
readonly STOP_TIMEOUT_S=${AGORA_ZK_STOP_TIMEOUT:-20}

usage() {
  cat <<'EOF'
Usage: scripts/zookeeper.sh <command> [options]

Commands:
  install                 Install Debian's `zookeeper` package if it is missing (needs root).
                          Runs `apt-get update` only when the package lists are empty.
  start  [--port P] [--dir D] [--tick MS]
                          Start a standalone server on 127.0.0.1:P (default 2181) whose config,
                          data, log and pid file live in D (default /tmp/agora-zk-<P>). Waits
                          until it serves requests, then prints the connect string
                          (127.0.0.1:P). Starting an already running server is a no-op. The data
                          in D/data is kept, so stop + start is a server restart.
  stop   [--port P] [--dir D] [--purge]
                          Stop that server (SIGTERM, then SIGKILL if it lingers) and wait until it
                          is gone. --purge also deletes D.
  status [--port P] [--dir D]
                          Print whether it is running; exit 0 if it serves requests, 3 if not.
  help, --help            This text.

Server settings (written to D/zoo.cfg): tickTime=200 ms (override with --tick), so the smallest
session timeout allowed is 2 ticks (400 ms) and the largest 60 s; four-letter words are all
whitelisted (echo ruok | nc 127.0.0.1 P); the admin HTTP server is off.
EOF
}

die() {
  echo "zookeeper.sh: $*" >&2
  exit 1
}

installed() {
  [[ -f $ZK_JAR ]] && dpkg-query -W -f='${Status}' zookeeper 2>/dev/null | grep -q 'install ok installed'
}

cmd_install() {
  if installed; then
    echo "zookeeper is already installed ($(dpkg-query -W -f='${Version}' zookeeper))"
    return 0
  fi
  [[ $(id -u) -eq 0 ]] || die "installing needs root: sudo $0 install"
  command -v apt-get >/dev/null || die "apt-get not found: install ZooKeeper 3.8 yourself (jar at $ZK_JAR)"
  local updated=0
  if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
    apt-get -o DPkg::Lock::Timeout=600 update
    updated=1
  fi
  if ! DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y zookeeper; then
    # Stale package lists (a 404 on download): refresh them once and try again.
    ((updated == 0)) || die "apt-get install zookeeper failed"
    apt-get -o DPkg::Lock::Timeout=600 update
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y zookeeper
  fi
  installed || die "apt-get finished but $ZK_JAR is still missing"
  echo "zookeeper installed ($(dpkg-query -W -f='${Version}' zookeeper))"
}

# ---- option parsing shared by start/stop/status -------------------------------------------
PORT=$DEFAULT_PORT
DIR=''
TICK=200
PURGE=0

parse_opts() {
  while [[ $# -gt 0 ]]; do
    case $1 in
    --port)
      [[ $# -ge 2 ]] || die "--port needs a value"
      PORT=$2
      shift 2
      ;;
    --port=*)
      PORT=${1#--port=}
      shift
      ;;
    --dir)
      [[ $# -ge 2 ]] || die "--dir needs a value"
      DIR=$2
      shift 2
      ;;
    --dir=*)
      DIR=${1#--dir=}
      shift
      ;;
    --tick)
      [[ $# -ge 2 ]] || die "--tick needs a value"
      TICK=$2
      shift 2
      ;;
    --purge)
      PURGE=1
      shift
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) die "unknown option: $1 (see --help)" ;;
    esac
  done
  [[ $PORT =~ ^[0-9]+$ ]] && ((PORT > 0 && PORT < 65536)) || die "bad --port: $PORT"
  [[ $TICK =~ ^[0-9]+$ ]] && ((TICK >= 10)) || die "bad --tick: $TICK (milliseconds, >= 10)"
  [[ -n $DIR ]] || DIR=/tmp/agora-zk-$PORT
  DIR=$(realpath -m -- "$DIR")
  PIDFILE=$DIR/zookeeper.pid
  CFG=$DIR/zoo.cfg
  LOG=$DIR/zookeeper.log
}

# Sends a four-letter word; prints the answer (empty if nothing answers).
four_letter() {
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT" && printf '%s' "$1" >&3 && timeout 5 cat <&3) 2>/dev/null || true
}

serving() {
  [[ $(four_letter ruok) == imok ]] && four_letter srvr | grep -q '^Mode: standalone'
}

# The pid of OUR server for this dir: from the pid file, checked against the process's command line
# (so a recycled pid is never taken for ours).
our_pid() {
  local pid
  [[ -f $PIDFILE ]] || return 1
  pid=$(<"$PIDFILE")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$CFG" || return 1
  echo "$pid"
}

write_config() {
  mkdir -p "$DIR/data"
  cat >"$CFG" <<EOF
# Written by scripts/zookeeper.sh: a throwaway standalone server for Agora.
tickTime=$TICK
dataDir=$DIR/data
clientPort=$PORT
clientPortAddress=127.0.0.1
minSessionTimeout=$((TICK * 2))
maxSessionTimeout=60000
maxClientCnxns=0
4lw.commands.whitelist=*
admin.enableServer=false
autopurge.snapRetainCount=3
autopurge.purgeInterval=1
EOF
}

cmd_start() {
  parse_opts "$@"
  installed || die "ZooKeeper is not installed: run 'sudo $0 install'"
  command -v java >/dev/null || die "java not found (Debian: apt-get install default-jre-headless)"
  local pid
  if pid=$(our_pid); then
    local waited=0
    until serving; do
      ((waited < START_TIMEOUT_S * 10)) || die "server pid $pid is running but not answering on 127.0.0.1:$PORT (log: $LOG)"
      sleep 0.1
      waited=$((waited + 1))
    done
    echo "127.0.0.1:$PORT"
    return 0
  fi
  if serving || (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    die "port $PORT is already in use by another process (not the server of $DIR)"
  fi
  mkdir -p "$DIR"
  write_config
  local cp=$ZK_JAR
  for extra in /usr/share/java/slf4j-simple.jar; do
    [[ -f $extra ]] && cp=$cp:$extra
  done
  # setsid: its own session, so the caller's terminal or process group does not take it down;
  # stdio to files, so whoever runs this script is not left holding our pipes.
  setsid java -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -Dzookeeper.jmx.log4j.disable=true \
    -Dzookeeper.admin.enableServer=false \
    -cp "$cp" org.apache.zookeeper.server.ZooKeeperServerMain "$CFG" \
    </dev/null >>"$LOG" 2>&1 &
  pid=$!
  echo "$pid" >"$PIDFILE"
  local waited=0
  until serving; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PIDFILE"
      echo "--- last lines of $LOG ---" >&2
      tail -n 30 "$LOG" >&2 || true
      die "the server exited during start-up"
    fi
    if ((waited >= START_TIMEOUT_S * 10)); then
      kill -KILL "$pid" 2>/dev/null || true
      rm -f "$PIDFILE"
      tail -n 30 "$LOG" >&2 || true
      die "the server did not answer on 127.0.0.1:$PORT within ${START_TIMEOUT_S}s"
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  echo "127.0.0.1:$PORT"
}

cmd_stop() {
  parse_opts "$@"
  local pid
  if pid=$(our_pid); then
    kill -TERM "$pid" 2>/dev/null || true
    local waited=0
    while kill -0 "$pid" 2>/dev/null; do
      if ((waited == STOP_TIMEOUT_S * 10)); then
        kill -KILL "$pid" 2>/dev/null || true
      fi
      sleep 0.1
      waited=$((waited + 1))
    done
    echo "stopped ZooKeeper (pid $pid) on 127.0.0.1:$PORT"
  else
    echo "no ZooKeeper of $DIR is running"
  fi
  rm -f "$PIDFILE"
  # The socket must be free before we return, so that an immediate `start` can bind it.
  local waited=0
  while (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && ((waited < 50)); do
    sleep 0.1
    waited=$((waited + 1))
  done
  if ((PURGE)); then
    rm -rf -- "$DIR"
    echo "removed $DIR"
  fi
}

cmd_status() {
  parse_opts "$@"
  local pid=''
  pid=$(our_pid) || pid=''
  if serving; then
    echo "ZooKeeper is serving on 127.0.0.1:$PORT${pid:+ (pid $pid, dir $DIR)}"
    four_letter srvr
    echo
    return 0
  fi
  if [[ -n $pid ]]; then
    echo "ZooKeeper pid $pid (dir $DIR) is running but not serving on 127.0.0.1:$PORT"
  else
    echo "ZooKeeper is not running on 127.0.0.1:$PORT"
  fi
  return 3
}

main() {
  [[ $# -ge 1 ]] || {
    usage
    exit 1
  }
  local cmd=$1
  shift
  case $cmd in
  install) cmd_install "$@" ;;
  start) cmd_start "$@" ;;
  stop) cmd_stop "$@" ;;
  status) cmd_status "$@" ;;
  help | -h | --help) usage ;;
  *) die "unknown command: $cmd (see --help)" ;;
  esac
}

main "$@"
