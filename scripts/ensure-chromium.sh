#!/usr/bin/env bash
# Make sure Debian's chromium is on the machine (the report.html tests open the report in it);
# install it when we are root. Without it those tests are skipped, and cplrecon itself works.
set -eu
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "cplrecon: installing chromium (headless browser for the report.html tests)..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
  exit 0
fi
echo "cplrecon: chromium is missing; the report.html browser tests will be skipped." >&2
echo "  install it with: sudo apt-get install chromium" >&2
exit 0
