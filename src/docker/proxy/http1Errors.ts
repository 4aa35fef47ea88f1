/** The error the HTTP/1.1 framing parser throws for a message it refuses, with the status a server answers it with. */

/** Why a message was refused. */
export type HttpParseErrorCode =
  | "BARE_LF"
  | "BARE_CR"
  | "OBS_FOLD"
  | "INVALID_HEAD"
  | "INVALID_REQUEST_LINE"
  | "INVALID_STATUS_LINE"
  | "INVALID_METHOD"
  | "INVALID_TARGET"
  | "UNSUPPORTED_VERSION"
  | "INVALID_FIELD_LINE"
  | "INVALID_FIELD_NAME"
  | "INVALID_FIELD_VALUE"
  | "INVALID_CONTENT_LENGTH"
  | "MULTIPLE_CONTENT_LENGTH"
  | "CONTENT_LENGTH_WITH_TRANSFER_ENCODING"
  | "INVALID_TRANSFER_ENCODING"
  | "TRANSFER_ENCODING_NOT_CHUNKED"
  | "HEAD_TOO_LARGE"
  | "INVALID_CHUNK_SIZE"
  | "INVALID_CHUNK_EXTENSION"
  | "CHUNK_LINE_TOO_LONG"
  | "INVALID_CHUNK_END"
  | "TRAILERS_TOO_LARGE"
  | "TRUNCATED";

const statusOf: Partial<Record<HttpParseErrorCode, number>> = {
  HEAD_TOO_LARGE: 431,
  TRAILERS_TOO_LARGE: 431,
  UNSUPPORTED_VERSION: 505,
};

/** A malformed, ambiguous or oversized HTTP/1.1 message. */
export class HttpParseError extends Error {
  override name = "HttpParseError";
  /** What is wrong. */
  readonly code: HttpParseErrorCode;
  /** The status a server answers a request with this error with (400, 431 or 505). */
  readonly status: number;

  /** An error with `code` and a message for people. */
  constructor(code: HttpParseErrorCode, message: string) {
    super(message);
    this.code = code;
    this.status = statusOf[code] ?? 400;
  }
}
