/**
 * `hookplugins init`: makes the current folder (or -C's) a host project.
 */
import { relative } from "node:path";
import { initProject } from "../../inclusion/projectOps.js";
import type { CommandContext } from "../context.js";

/** The options of `hookplugins init`. */
export interface InitOptions {
  /** The generated module's path, or false for none (--no-generated); default by the project's language. */
  readonly generated?: string | false;
}

/** Runs `hookplugins init`: writes hookplugins.json and the empty generated module; refuses to overwrite. */
export async function initCommand(ctx: CommandContext, options: InitOptions): Promise<void> {
  const { project, generatedFile, language } = await initProject(ctx.root, options.generated === undefined ? {} : { generated: options.generated });
  const shown = (file: string): string => relative(ctx.cwd, file) || file;
  if (ctx.out.json) {
    return ctx.out.data({ created: project.manifestPath, generated: generatedFile ?? null, ...(language && { language: language.extension, reason: language.reason }) });
  }
  ctx.out.line(`Created ${shown(project.manifestPath)} (no plugins yet).`);
  if (generatedFile) {
    ctx.out.line(`Wrote ${shown(generatedFile)}${language ? ` (.${language.extension}: ${language.reason})` : ""}; import it once in your host before createHost().`);
  }
  ctx.out.line("Next: hookplugins module --add-plugin=<plugin folder or package>");
}
