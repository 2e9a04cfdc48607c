#!/usr/bin/env bash
# Make sure Debian's tesseract (with English data, and osd for turned scans) is on the machine;
# install it when we are root.
set -eu
langs="$(command -v tesseract >/dev/null 2>&1 && tesseract --list-langs 2>/dev/null || true)"
if printf '%s\n' "$langs" | grep -qx eng && printf '%s\n' "$langs" | grep -qx osd; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "cplrecon: installing tesseract-ocr (OCR for scanned certificates)..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd >/dev/null
  exit 0
fi
echo "cplrecon: tesseract is missing; scanned certificates need it." >&2
echo "  install it with: sudo apt-get install tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd" >&2
echo "  (born-digital PDFs still work; use --ocr never to skip OCR)" >&2
exit 0
