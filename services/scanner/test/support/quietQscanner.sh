#!/bin/sh
# A qscanner stand-in that, like the real binary in a long quiet phase, neither watches its parent
# nor writes anything that would fail once the scanner is gone: only something else can end it.
if [ "$1" = "--version" ]; then
  echo "qscanner version 0.0.0-quiet"
  exit 0
fi
exec sleep 120
