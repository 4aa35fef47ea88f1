/**
 * A vitest reporter that ends the run with the tests that were skipped and why (the tool they need and how to get
 * it), grouped by reason. Under `HOOKPLUGINS_REQUIRE_ALL_TOOLS=1` (set by `.ci/run`) it also fails the run when a
 * test was skipped, unless the test skipped itself with a note that starts with `optional:` (data the suite can do
 * without, such as ../shared). A broken tool detection can thus never pass CI by silently skipping the proof.
 */
import { relative } from "node:path";
import type { Reporter, TestCase, TestModule } from "vitest/node";

/** The prefix of a skip note that CI accepts. */
export const optionalSkipPrefix = "optional:";

/** Why `test` was skipped: its note, or the reason in a skipped suite's name, or "". */
function skipNote(test: TestCase): string {
  const result = test.result();
  const note = result.state === "skipped" ? result.note : undefined;
  if (note) return note;
  return /\[skipped: (.*)\]/.exec(test.fullName)?.[1] ?? "";
}

/** Prints skipped tests by reason; fails the run on skips CI forbids when `requireAll` is set. */
export class SkipReporter implements Reporter {
  readonly #requireAll: boolean;

  /** `requireAll`: fail the run on a skip without an `optional:` note. */
  constructor(requireAll = process.env.HOOKPLUGINS_REQUIRE_ALL_TOOLS === "1") {
    this.#requireAll = requireAll;
  }

  /** Lists the skipped tests and, in CI mode, sets a failing exit code for forbidden ones. */
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const byReason = new Map<string, string[]>();
    const forbidden: string[] = [];
    for (const module of testModules) {
      for (const test of module.children.allTests("skipped")) {
        const note = skipNote(test);
        const where = `${relative(process.cwd(), module.moduleId)} > ${test.fullName}`;
        byReason.set(note, [...(byReason.get(note) ?? []), where]);
        if (!note.startsWith(optionalSkipPrefix)) forbidden.push(note ? `${where} [${note}]` : where);
      }
    }
    if (byReason.size === 0) return;
    const lines = ["", "Skipped tests, by reason:"];
    for (const [reason, tests] of byReason) lines.push(`  ${reason || "(no reason given)"}: ${tests.length} test(s), e.g. ${tests[0] ?? ""}`);
    process.stdout.write(`${lines.join("\n")}\n`);
    if (!this.#requireAll || forbidden.length === 0) return;
    process.stderr.write(
      `\nHOOKPLUGINS_REQUIRE_ALL_TOOLS=1: ${forbidden.length} test(s) skipped, and CI must run them all:\n${forbidden.map((line) => `  - ${line}`).join("\n")}\n`,
    );
    process.exitCode = 1;
  }
}
