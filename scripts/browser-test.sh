#!/usr/bin/env bash
# Browser tests of the Conforme web pages (tests/browser/), against freshly
# started servers on loopback ports, each with a throw-away data directory:
#   - `conforme serve` (fixed clock), its address exported as CONFORME_URL;
#   - `conforme demo` (demo accounts and candidatures, settable clock, emails shown
#     at /demo/courriels), its address exported as CONFORME_DEMO_URL.
#
#   scripts/browser-test.sh
#
# Environment:
#   CONFORME_BIN  the conforme binary to serve; built with `cargo build -p conforme` when unset
#   CHROMIUM      the Chromium executable (default /usr/bin/chromium, installed with apt when missing)
#
# The browser is Debian's Chromium: nothing downloads a browser of its own.
# Screenshots are left in tests/browser/screenshots/ (git-ignored).
# The exit code is the test runner's.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TESTS_DIR="$ROOT/tests/browser"
NOW="2026-03-31T11:59:00+02:00"
READY_TIMEOUT=60

log() { printf 'browser-test: %s\n' "$*" >&2; }

# --- Chromium ---------------------------------------------------------------
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [[ ! -x "$CHROMIUM" ]]; then
  if [[ "$CHROMIUM" != /usr/bin/chromium ]]; then
    log "CHROMIUM=$CHROMIUM is not an executable"
    exit 1
  fi
  log "installing Debian's chromium (apt-get)…"
  apt_log="$(mktemp -t conforme-apt.XXXXXX)"
  if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >"$apt_log" 2>&1; then
    tail -n 30 "$apt_log" >&2
    rm -f "$apt_log"
    log "could not install chromium"
    exit 1
  fi
  rm -f "$apt_log"
fi
log "$("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"

# --- Node dependencies (playwright-core, @axe-core/playwright) ------------------
if [[ ! -d "$TESTS_DIR/node_modules" \
   || "$TESTS_DIR/package-lock.json" -nt "$TESTS_DIR/node_modules/.package-lock.json" ]]; then
  log "npm ci in tests/browser…"
  (cd "$TESTS_DIR" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi

# --- The conforme binary ----------------------------------------------------
if [[ -z "${CONFORME_BIN:-}" ]]; then
  log "cargo build -p conforme…"
  (cd "$ROOT" && cargo build -p conforme --quiet)
  target_dir="$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps \
    | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')"
  CONFORME_BIN="$target_dir/debug/conforme"
fi
if [[ ! -x "$CONFORME_BIN" ]]; then
  log "no executable at CONFORME_BIN=$CONFORME_BIN"
  exit 1
fi

# --- The servers ------------------------------------------------------------
DATA_DIR="$(mktemp -d -t conforme-browser.XXXXXX)"
SERVER_LOG="$DATA_DIR/server.log"
SERVER_PID=""
DEMO_DIR="$(mktemp -d -t conforme-browser-demo.XXXXXX)"
DEMO_OUT="$DEMO_DIR/demo.out"
DEMO_LOG="$DEMO_DIR/demo.log"
DEMO_PID=""

stop_server() {
  local pid=$1
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
}

cleanup() {
  local status=$?
  stop_server "$SERVER_PID"
  stop_server "$DEMO_PID"
  if [[ $status -ne 0 ]]; then
    if [[ -s "$SERVER_LOG" ]]; then
      log "last lines of the server log:"
      tail -n 20 "$SERVER_LOG" >&2 || true
    fi
    if [[ -s "$DEMO_LOG" || -s "$DEMO_OUT" ]]; then
      log "last lines of the demo server's output and log:"
      tail -n 10 "$DEMO_OUT" >&2 || true
      tail -n 20 "$DEMO_LOG" >&2 || true
    fi
  fi
  rm -rf "$DATA_DIR" "$DEMO_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Waits until the server PID has printed its address in FILE (the first line
# matching the sed expression EXPR, which keeps only the URL) and answers
# /healthz; prints the URL.
wait_ready() {
  local name=$1 pid=$2 file=$3 expr=$4 url="" deadline=$((SECONDS + READY_TIMEOUT))
  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "the $name server stopped before being ready"
      return 1
    fi
    if [[ -z "$url" ]]; then
      url="$(sed -n "$expr" "$file" | head -n 1)"
    fi
    if [[ -n "$url" ]] && node -e 'fetch(process.argv[1]).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$url/healthz"; then
      printf '%s\n' "$url"
      return 0
    fi
    if ((SECONDS >= deadline)); then
      log "the $name server was not ready within ${READY_TIMEOUT} s"
      return 1
    fi
    sleep 0.2
  done
}

# Port 0: the system picks a free port, which the server prints on stdout.
CONFORME_DATA_DIR="$DATA_DIR" "$CONFORME_BIN" serve --listen 127.0.0.1:0 --now "$NOW" >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!
# The demo server prints "Démonstration Conforme : http://ADDR…" as its first
# line on stdout; its log goes to stderr. Its data lives in DEMO_DIR/demo.
CONFORME_DATA_DIR="$DEMO_DIR" "$CONFORME_BIN" demo --listen 127.0.0.1:0 >"$DEMO_OUT" 2>"$DEMO_LOG" &
DEMO_PID=$!

URL="$(wait_ready serve "$SERVER_PID" "$SERVER_LOG" 's|^Conforme écoute sur \(http://127\.0\.0\.1:[0-9][0-9]*\).*$|\1|p')"
log "server ready at $URL (data in $DATA_DIR)"
DEMO_URL="$(wait_ready demo "$DEMO_PID" "$DEMO_OUT" '1s|^Démonstration Conforme : \(http://127\.0\.0\.1:[0-9][0-9]*\).*$|\1|p')"
log "demo server ready at $DEMO_URL (data in $DEMO_DIR/demo)"
export CONFORME_URL="$URL" CONFORME_DEMO_URL="$DEMO_URL"

# --- The tests --------------------------------------------------------------
status=0
(cd "$ROOT" && node --test --test-concurrency=1 --test-reporter=spec tests/browser/*.test.mjs) || status=$?
log "screenshots in tests/browser/screenshots/"
exit "$status"
