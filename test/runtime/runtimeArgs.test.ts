/**
 * Reading an OCI runtime command line as runc does, and writing errors in its log format.
 */
import { describe, expect, it } from "vitest";
import { formatRuntimeLogLine, parseRuntimeArgs, reportToRuntimeLog, type RuntimeLogSinks } from "hookplugins/runtime";

describe("parseRuntimeArgs", () => {
  it("reads dockerd's create: log, log format, bundle and id", () => {
    const argv = ["--root", "/r/moby", "--log", "/b/log.json", "--log-format", "json", "create", "--bundle", "/b", "--pid-file", "/b/init.pid", "abc"];
    expect(parseRuntimeArgs(argv)).toEqual({ globals: { log: "/b/log.json", logFormat: "json" }, command: "create", bundle: "/b", id: "abc" });
  });

  it("reads Podman's create, which has no global flags", () => {
    expect(parseRuntimeArgs(["create", "--bundle", "/u", "--pid-file", "/p", "id1"])).toEqual({ globals: { log: undefined, logFormat: "text" }, command: "create", bundle: "/u", id: "id1" });
  });

  it("reads --flag=value and single-dash forms, and skips flags without a value", () => {
    const argv = ["-log=/l", "--log-format=json", "--debug", "--systemd-cgroup", "-root", "/r", "run", "-b=/b", "-d", "--keep", "id"];
    expect(parseRuntimeArgs(argv)).toEqual({ globals: { log: "/l", logFormat: "json" }, command: "run", bundle: "/b", id: "id" });
  });

  it("does not take a global flag's value for the subcommand", () => {
    expect(parseRuntimeArgs(["--root", "create", "--criu", "run", "state", "x"]).command).toBe("state");
  });

  it("skips create's flags that take a value before the id, and leaves the bundle unset when not given", () => {
    expect(parseRuntimeArgs(["create", "--console-socket", "/s", "--preserve-fds", "2", "--no-pivot", "id"])).toMatchObject({ bundle: undefined, id: "id" });
  });

  it("has no subcommand for --version", () => {
    expect(parseRuntimeArgs(["--version"]).command).toBeUndefined();
  });
});

describe("the runtime log format", () => {
  const at = new Date("2026-12-06T06:00:00.000Z");

  it("is runc's JSON line with --log-format json", () => {
    expect(formatRuntimeLogLine("json", "error", 'a "quoted" msg', at)).toBe('{"level":"error","msg":"a \\"quoted\\" msg","time":"2026-12-06T06:00:00.000Z"}\n');
  });

  it("is a logrus text line otherwise", () => {
    expect(formatRuntimeLogLine("text", "error", 'a "quoted" msg', at)).toBe('time="2026-12-06T06:00:00.000Z" level=error msg="a \\"quoted\\" msg"\n');
  });

  it("goes to the log file and to stderr", () => {
    const written: string[] = [];
    const sinks: RuntimeLogSinks = { stderr: (t) => written.push(`stderr ${t}`), append: (p, t) => written.push(`${p} ${t}`) };
    reportToRuntimeLog({ log: "/l.json", logFormat: "json" }, "error", "boom", sinks);
    expect(written.map((w) => w.replace(/"time":"[^"]+"/, ""))).toEqual(['/l.json {"level":"error","msg":"boom",}\n', 'stderr {"level":"error","msg":"boom",}\n']);
  });

  it("still reaches stderr, with the reason, when the log file cannot be written", () => {
    const written: string[] = [];
    const sinks: RuntimeLogSinks = {
      stderr: (t) => written.push(t),
      append: () => {
        throw new Error("EACCES");
      },
    };
    reportToRuntimeLog({ log: "/l.json", logFormat: "text" }, "error", "boom", sinks);
    expect(written).toEqual([expect.stringContaining('level=warning msg="cannot write the runtime log /l.json: EACCES"'), expect.stringContaining('msg="boom"')]);
  });
});
