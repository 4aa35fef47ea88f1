/**
 * Docker-style API errors: an HTTP status plus a message the docker CLI prints as "Error response from daemon: ...".
 */

/** An error the API answers with `status` and `{"message": message}`. */
export class HttpError extends Error {
  override name = "HttpError";
  /** HTTP status code sent to the client. */
  readonly status: number;

  /** Creates an error answered with `status`. */
  constructor(status: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.status = status;
  }
}

/** 400: the request is malformed. */
export function badRequest(message: string, cause?: unknown): HttpError {
  return new HttpError(400, message, { cause });
}

/** 404: the named object (container, image, volume, route) does not exist. */
export function notFound(message: string): HttpError {
  return new HttpError(404, message);
}

/** 409: the request conflicts with the object's current state. */
export function conflict(message: string): HttpError {
  return new HttpError(409, message);
}

/** The fields a hookplugins PluginHookError carries (checked structurally, so any copy of the library matches). */
export interface PluginFailure extends Error {
  /** The failing plugin's name. */
  readonly plugin: string;
  /** The hook point, e.g. "ContainerPlugin.preCreate". */
  readonly hook: string;
}

/** True when `err` is a plugin failure raised by the hookplugins host. */
export function isPluginFailure(err: unknown): err is PluginFailure {
  return (
    err instanceof Error &&
    typeof (err as Partial<PluginFailure>).plugin === "string" &&
    typeof (err as Partial<PluginFailure>).hook === "string"
  );
}

/** The status and message the API answers a thrown error with. */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (isPluginFailure(err)) return new HttpError(500, err.message, { cause: err });
  if (err instanceof AggregateError) {
    const parts = err.errors.map((e: unknown) => (e instanceof Error ? e.message : String(e)));
    return new HttpError(500, `${err.message}: ${parts.join("; ")}`, { cause: err });
  }
  return new HttpError(500, err instanceof Error ? err.message : String(err), { cause: err });
}
