#!/usr/bin/env bash
# Installs what the tests need when it is missing: redis-server (rate-limit
# tests start their own on a free loopback port, single or as a three-node
# cluster), redis-sentinel (the Sentinel tests; Debian packages the binary
# apart from redis-server) and Debian's chromium (the real-browser tests).
# Uses apt-get, once, and only when something is missing.
set -euo pipefail

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-sentinel >/dev/null 2>&1 || missing+=(redis-sentinel)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
for extra in "$@"; do
	command -v "$extra" >/dev/null 2>&1 || missing+=("$extra")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
	echo "ensure-deps: missing ${missing[*]} and no apt-get to install them; install them and retry" >&2
	exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
		echo "ensure-deps: missing ${missing[*]}; run as root or install them" >&2
		exit 1
	fi
fi
echo "ensure-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
