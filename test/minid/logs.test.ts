import { describe, expect, it } from "vitest";
import { demultiplex, frame, selectLog, type LogRecord } from "../../examples/minid/src/logs.js";

const records: LogRecord[] = [
  { stream: 1, time: "2024-01-01T00:00:00.000Z", data: Buffer.from("one\ntwo\n") },
  { stream: 2, time: "2024-01-01T00:00:01.000Z", data: Buffer.from("oops\n") },
  { stream: 1, time: "2024-01-01T00:00:02.000Z", data: Buffer.from("three\n") },
];

describe("container log stream format", () => {
  it("a multiplexed frame has the stream type in byte 0 and the big-endian payload size in bytes 4-7", () => {
    const f = frame(2, Buffer.from("hello"));
    expect([...f.subarray(0, 8)]).toEqual([2, 0, 0, 0, 0, 0, 0, 5]);
    expect(f.subarray(8).toString()).toBe("hello");
  });

  it("demultiplexing frames gives back each payload with its stream", () => {
    const body = Buffer.concat([frame(1, Buffer.from("a")), frame(2, Buffer.from("bc"))]);
    expect(demultiplex(body).map((p) => [p.stream, p.data.toString()])).toEqual([[1, "a"], [2, "bc"]]);
  });

  it("selecting only stdout drops stderr lines", () => {
    const lines = selectLog(records, { stdout: true, stderr: false, timestamps: false });
    expect(lines.map((l) => l.data.toString())).toEqual(["one\n", "two\n", "three\n"]);
  });

  it("tail keeps the last n lines across both streams", () => {
    const lines = selectLog(records, { stdout: true, stderr: true, timestamps: false, tail: 2 });
    expect(lines.map((l) => l.data.toString())).toEqual(["oops\n", "three\n"]);
  });

  it("timestamps prefix each line with the time it was received", () => {
    const [first] = selectLog(records, { stdout: true, stderr: true, timestamps: true, tail: 1 });
    expect(first?.data.toString()).toBe("2024-01-01T00:00:02.000Z three\n");
  });
});
