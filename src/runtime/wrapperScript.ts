/**
 * The wrapper engines run instead of their OCI runtime: a small POSIX sh script with every path absolute. It finds the
 * subcommand after runc's global flags; `create` and `run` first go through the plugin step (node with one bundled
 * file, which adds the plugins' prestart hooks to the bundle's config.json), then the real runtime is exec'd with the
 * same arguments. Every other subcommand is one exec of the real runtime: no node, no file read.
 */
import { creatingCommands, globalFlagsWithValue } from "./runtimeArgs.js";
import { stepKillGraceMs, wrapperHeaderLine, wrapperHeaderPrefix, type WrapperConfig } from "./wrapperConfig.js";

/** `value` quoted for sh: one word, whatever it holds. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** `--name|-name` patterns of a case branch for `names`. */
function flagPatterns(names: readonly string[], suffix = ""): string {
  return names.flatMap((n) => [`--${n}${suffix}`, `-${n}${suffix}`]).join("|");
}

/** The node variables that could load other code into the plugin step or slow its start (extra CA certificates). */
export const clearedNodeVariables: readonly string[] = ["NODE_OPTIONS", "NODE_PATH", "NODE_EXTRA_CA_CERTS", "NODE_REPL_EXTERNAL_MODULE"];

/** The text of the wrapper script for `config`. */
export function renderWrapperScript(config: WrapperConfig): string {
  const q = shellQuote;
  const others = globalFlagsWithValue.filter((n) => n !== "log" && n !== "log-format");
  const limitS = (config.timeoutMs + stepKillGraceMs) / 1000;
  const step = `${q(config.node)} ${q(config.step)} "$@"`;
  const run = config.timeoutBin === undefined ? `exec ${step}` : `exec ${q(config.timeoutBin)} -k 2 ${limitS} ${step}`;
  const time = config.dateBin === undefined ? "" : `$(${q(config.dateBin)} -u +%Y-%m-%dT%H:%M:%SZ)`;
  // the messages are escaped once for both formats here (JSON string escapes, which logrus text quoting shares)
  const escaped = (text: string): string => q(JSON.stringify(text).slice(1, -1));
  const stopped = `hookplugins runtime wrapper: the plugin step did not finish within ${limitS} s and was stopped (a plugin blocked node); the container was not created`;
  const [before, after] = [`hookplugins runtime wrapper: the plugin step (${config.node} ${config.step}) exited with status `, " before it could say why; the container was not created"];
  return [
    "#!/bin/sh",
    "# hookplugins OCI runtime wrapper, written by `hookplugins runtime install`: do not edit it, install it again.",
    "# create and run: the plugin step adds the plugins' prestart hooks to <bundle>/config.json, then the real runtime",
    "# runs with the same arguments. Any other subcommand: the real runtime, and nothing else.",
    wrapperHeaderLine(wrapperHeaderPrefix, config),
    "log= fmt=text cmd= v=",
    "for a do",
    '  if [ -n "$v" ]; then',
    '    case $v in l) log=$a ;; f) fmt=$a ;; esac',
    "    v=",
    "    continue",
    "  fi",
    "  case $a in",
    `    ${flagPatterns(["log"])}) v=l ;;`,
    `    ${flagPatterns(["log-format"])}) v=f ;;`,
    `    ${flagPatterns(others)}) v=x ;;`,
    `    ${flagPatterns(["log"], "=*")}) log=\${a#*=} ;;`,
    `    ${flagPatterns(["log-format"], "=*")}) fmt=\${a#*=} ;;`,
    "    -*) ;;",
    "    *) cmd=$a; break ;;",
    "  esac",
    "done",
    "case $cmd in",
    `  ${creatingCommands.join("|")}) ;;`,
    `  *) exec ${q(config.runtime)} "$@" ;;`,
    "esac",
    ...(config.plugins.length > 0
      ? []
      : [
          "# no plugins compiled in: node runs only for a hand-off of this container (the id is the last argument)",
          "for id do :; done",
          `[ -e ${q(config.handoffDir)}/"$id".json ] || exec ${q(config.runtime)} "$@"`,
        ]),
    `( unset ${clearedNodeVariables.join(" ")}; ${run} ) </dev/null >&2`,
    "s=$?",
    'if [ "$s" -ne 0 ]; then',
    "  # status 1: the step reported its error itself; anything else: it was stopped or died before it could",
    '  if [ "$s" -ne 1 ]; then',
    `    case $s in 124|137) m=${escaped(stopped)} ;; *) m=${escaped(before)}$s${escaped(after)} ;; esac`,
    `    t=${time}`,
    '    if [ "$fmt" = json ]; then l="{\\"level\\":\\"error\\",\\"msg\\":\\"$m\\",\\"time\\":\\"$t\\"}"; else l="time=\\"$t\\" level=error msg=\\"$m\\""; fi',
    '    [ -z "$log" ] || printf \'%s\\n\' "$l" >> "$log"',
    "    printf '%s\\n' \"$l\" >&2",
    "  fi",
    '  exit "$s"',
    "fi",
    `exec ${q(config.runtime)} "$@"`,
    "",
  ].join("\n");
}
