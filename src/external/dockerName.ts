/**
 * Docker's rule for the names of plugins and volumes (moby's RestrictedNameChars): letters, digits, "_", "." and "-",
 * starting with a letter or digit. Such a name is one path segment, so it is also safe as a socket or folder name.
 */

/** The pattern of a valid Docker plugin or volume name. */
export const dockerNamePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** The rule in words, for error messages. */
export const dockerNameRule = 'letters, digits, "_", "." and "-", starting with a letter or digit';

/** Whether `name` is a string that follows Docker's name rule. */
export function isDockerName(name: unknown): name is string {
  return typeof name === "string" && dockerNamePattern.test(name);
}
