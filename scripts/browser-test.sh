#!/usr/bin/env bash
# Browser tests of the Conforme web pages (tests/browser/), against a freshly
# started server on a loopback port with a throw-away data directory.
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

# --- The server -------------------------------------------------------------
DATA_DIR="$(mktemp -d -t conforme-browser.XXXXXX)"
SERVER_LOG="$DATA_DIR/server.log"
SERVER_PID=""

cleanup() {
  local status=$?
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ $status -ne 0 && -s "$SERVER_LOG" ]]; then
    log "last lines of the server log:"
    tail -n 20 "$SERVER_LOG" >&2 || true
  fi
  rm -rf "$DATA_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Port 0: the system picks a free port, which the server prints on stdout.
CONFORME_DATA_DIR="$DATA_DIR" "$CONFORME_BIN" serve --listen 127.0.0.1:0 --now "$NOW" >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!

URL=""
deadline=$((SECONDS + READY_TIMEOUT))
while :; do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    log "the server stopped before being ready"
    exit 1
  fi
  if [[ -z "$URL" ]]; then
    URL="$(sed -n 's|^Conforme écoute sur \(http://127\.0\.0\.1:[0-9][0-9]*\).*$|\1|p' "$SERVER_LOG" | head -n 1)"
  fi
  if [[ -n "$URL" ]] && node -e 'fetch(process.argv[1]).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$URL/healthz"; then
    break
  fi
  if ((SECONDS >= deadline)); then
    log "the server was not ready within ${READY_TIMEOUT} s"
    exit 1
  fi
  sleep 0.2
done
log "server ready at $URL (data in $DATA_DIR)"

# --- The tests --------------------------------------------------------------
status=0
(cd "$ROOT" && CONFORME_URL="$URL" node --test --test-reporter=spec tests/browser/*.test.mjs) || status=$?
log "screenshots in tests/browser/screenshots/"
exit "$status"
