/**
 * The Docker Engine API proxy's transport: HTTP/1.1 framing, the relay (passthrough, tunnels, in-process routes), the
 * route matcher, and the engine client that route handlers use.
 */
export type { ProxyHandler, ProxyRoute, RouteMatch, RouteMatcher, UpstreamAddress } from "./routeTypes.js";
export { compileRoutes, noRoutes, percentDecode, requestPath, RoutePatternError, splitApiVersion } from "./routeMatcher.js";
export { createRelayServer, Relay } from "./relay.js";
export type { RelayCloseOptions, RelayOptions, RelayServer, RelayServerOptions } from "./relay.js";
export { RelayProtocolError } from "./relayConnection.js";
export { RouteHandlerError } from "./inProcessServer.js";
export { RequestBodyConsumedError, UpstreamClient, UpstreamResponseTooLargeError, UpstreamUnavailableError } from "./upstreamClient.js";
export type { ForwardOptions, UpstreamClientOptions, UpstreamRequestOptions, UpstreamResponse } from "./upstreamClient.js";
export { dialUpstream, formatUpstreamAddress, parseUpstreamAddress, UpstreamAddressError } from "./upstreamAddress.js";
export type { UpstreamTls } from "./upstreamAddress.js";
export { createRequestParser, createResponseParser, defaultMaxHeadBytes, Http1Parser, maxChunkLineBytes, ParserStateError } from "./http1Parser.js";
export type { ExecuteResult, Http1ParserOptions, ParserPhase } from "./http1Parser.js";
export { fieldTokens, fieldValues, isToken, parseFieldLine, parseRequestHead, parseResponseHead } from "./http1Head.js";
export type { BodyFraming, HeaderField, HttpVersion, MessageHead, RequestHead, ResponseHead } from "./http1Head.js";
export { HttpParseError } from "./http1Errors.js";
export type { HttpParseErrorCode } from "./http1Errors.js";
export { errorResponseBytes, errorStatus, sendErrorResponse } from "./errorResponse.js";
