#!/bin/sh
# Sits between the scanner and qscanner: `sh watchdog.sh <executable> [args...]`, started by the
# scanner as the leader of a new process group, with a socket to the scanner on fd 3. It runs
# qscanner in that group (arguments as given, the environment it was given) with its output going
# straight to the scanner. When the socket closes, the scanner is gone (even by kill -9, which
# nothing can catch), so it kills the whole group: qscanner cannot tell that its parent died, and an
# orphaned scan would run on for up to SCAN_TIMEOUT. qscanner's exit code becomes the watchdog's own
# (and a death by signal is raised again, so the scanner sees the signal); a qscanner that cannot be
# found or run is reported on fd 3 (the scanner's `spawnError`). A shell, not Node: it starts in about a
# millisecond, where a Node watchdog cost ~100 ms of CPU on every scan.
case $1 in
  */*) [ -f "$1" ] && [ -x "$1" ] ;;
  *) command -v -- "$1" >/dev/null 2>&1 ;;
esac
if [ $? -ne 0 ]; then
  if [ -e "$1" ]; then
    printf 'EACCES: cannot run %s: not an executable file' "$1" >&3
  else
    printf 'ENOENT: cannot run %s: not found' "$1" >&3
  fi
  exit 127
fi
# A SIGTERM to the group reaches qscanner as well; staying until it has exited keeps the group's
# grace period (the scanner SIGKILLs the group as soon as its leader exits). A handler, not an
# ignored signal, so that qscanner starts with the default action.
trap : TERM
# The lifeline: reads fd 3 until the scanner's end closes.
(while read -r _; do :; done <&3; kill -KILL 0) </dev/null >/dev/null 2>&1 &
lifeline=$!
"$@" 3>&- &
qscanner=$!
exec 3>&-
while :; do
  wait "$qscanner"
  status=$?
  kill -0 "$qscanner" 2>/dev/null || break
done
kill "$lifeline" 2>/dev/null
if [ "$status" -gt 128 ] && [ "$status" -lt 160 ]; then
  trap - TERM
  kill -s "$(kill -l "$status")" $$
fi
exit "$status"
