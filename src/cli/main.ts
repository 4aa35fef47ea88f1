#!/usr/bin/env node
/**
 * The `hookplugins` executable.
 */
import { runCli } from "./program.js";

process.exit(await runCli(process.argv));
