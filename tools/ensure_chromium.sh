#!/usr/bin/env bash
# The report tests open HTML in headless Chromium. Install Debian's chromium when missing and apt is usable;
# otherwise those tests skip and say why.
command -v chromium >/dev/null 2>&1 && exit 0
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  echo "datavet: installing chromium for the report tests (apt-get)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "datavet: chromium could not be installed; browser tests will skip"
fi
exit 0
