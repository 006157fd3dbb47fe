#!/usr/bin/env bash
# Installs the Debian packages the test suite talks to (real SIP peers, browser, audio tools).
# Idempotent; needs root (or sudo). Debian 12 / Ubuntu 22.04+.
set -euo pipefail
PACKAGES=(
  kamailio kamailio-tls-modules kamailio-presence-modules kamailio-sqlite-modules  # the test PBX
  baresip-core        # a real softphone as the far end
  linphone-cli        # a second real softphone (Linphone's own SDP, GRUU, SRTP, hold, DTMF): interop tests
  sip-tester          # SIPp
  chromium            # renderer tests (driven by playwright-core)
  xvfb                # Electron smoke test display, where an Electron binary exists
  tshark              # dumpcap: the benchmark times both phones from one loopback capture
  python3             # SRTP interop test drives baresip's libre through ctypes
  openssl             # test CA for TLS
  sox                 # the early-media test's u-law WAV for SIPp's RTP stream
  iproute2 nftables   # network namespaces and packet loss
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-test-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "install-test-deps: missing packages: ${missing[*]}" >&2
    echo "install-test-deps: run as root: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi
echo "install-test-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
