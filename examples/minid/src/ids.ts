/**
 * Identifiers: 64-hex-digit object ids and Docker-like random container names.
 */
import { randomBytes, randomInt } from "node:crypto";

/** A new random 64-hex-digit id, as the Engine uses for containers and volumes. */
export function newId(): string {
  return randomBytes(32).toString("hex");
}

const adjectives = ["brave", "calm", "eager", "fancy", "gentle", "happy", "jolly", "keen", "lucid", "merry", "nifty", "quiet"];
const nouns = ["bell", "curie", "darwin", "euler", "gauss", "hopper", "kepler", "lovelace", "noether", "pascal", "ritchie", "turing"];

/** A random "adjective_scientist" name that `taken` does not contain. */
export function newName(taken: (name: string) => boolean): string {
  for (;;) {
    const name = `${adjectives[randomInt(adjectives.length)]}_${nouns[randomInt(nouns.length)]}`;
    if (!taken(name)) return name;
    const suffixed = `${name}_${randomInt(1000)}`;
    if (!taken(suffixed)) return suffixed;
  }
}

/** Container and volume names the Engine accepts. */
export const validName = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
