/**
 * Engine API version negotiation: the versions minid speaks and the /vX.Y path prefix clients send.
 */
import { badRequest } from "./httpErrors.js";

/** The newest API version minid serves (the docker CLI downgrades to it after GET /_ping). */
export const apiVersion = "1.47";

/** The oldest API version minid accepts. */
export const minApiVersion = "1.24";

function compare(a: string, b: string): number {
  const [amaj = 0, amin = 0] = a.split(".").map(Number);
  const [bmaj = 0, bmin = 0] = b.split(".").map(Number);
  return amaj - bmaj || amin - bmin;
}

/** Splits "/v1.47/containers/json" into its version and route path; 400 for versions minid cannot serve. */
export function stripVersion(pathname: string): { version: string; path: string } {
  const match = /^\/v(\d+\.\d+)(\/.*)?$/.exec(pathname);
  if (!match) return { version: apiVersion, path: pathname };
  const version = match[1] ?? apiVersion;
  if (compare(version, apiVersion) > 0) {
    throw badRequest(`client version ${version} is too new. Maximum supported API version is ${apiVersion}`);
  }
  if (compare(version, minApiVersion) < 0) {
    throw badRequest(`client version ${version} is too old. Minimum supported API version is ${minApiVersion}, please upgrade your client to a newer version`);
  }
  return { version, path: match[2] ?? "/" };
}
