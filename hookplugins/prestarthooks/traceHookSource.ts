/**
 * A copy of trace-hook.sh, run as `/bin/sh -c <text> trace-hook.sh <name>` when a host bundled these plugins away from
 * the script file (e.g. into dist/). test/plugins/prestarthooks.test.ts keeps it equal to trace-hook.sh.
 */

/** The text of trace-hook.sh. */
export const traceHookSource = String.raw`#!/bin/sh
# hookplugins prestart trace hook: an OCI prestart hook that appends its name to a trace file.
# usage: trace-hook.sh <name>
# The OCI runtime passes the container state JSON on stdin. The trace file is $HOOKPLUGINS_HOOK_LOG when set,
# else <bundle>/prestart.trace, with <bundle> read from that state.
# traceHookSource.ts holds a copy of this text for bundled hosts (no backquotes or dollar-braces here, so it stays verbatim).
set -e
if [ $# -lt 1 ] || [ -z "$1" ]; then
  echo "usage: trace-hook.sh <name>" >&2
  exit 2
fi
name=$1
state=$(cat)
log=$HOOKPLUGINS_HOOK_LOG
if [ -z "$log" ]; then
  bundle=$(printf '%s\n' "$state" | sed -n 's/.*"bundle"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' | head -n 1)
  if [ -z "$bundle" ]; then
    echo "trace-hook $name: HOOKPLUGINS_HOOK_LOG is not set and the OCI state on stdin has no bundle" >&2
    exit 1
  fi
  log=$bundle/prestart.trace
fi
printf '%s\n' "$name" >> "$log"
`;
