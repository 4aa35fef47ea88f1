/**
 * hookplugins/cri: a CRI relay in front of containerd for Kubernetes nodes, running a host's plugins on
 * CreateContainer and PullImage. It imports the library as "hookplugins" (and hookplugins/external), so it holds only
 * its own code, and it needs no gRPC package: Node's HTTP/2 carries the calls.
 */
export { createCriProxy, CriProxyError, criApiVersions, kubeletMaxMessageBytes } from "./criProxy.js";
export type { CriProxy, CriProxyOptions } from "./criProxy.js";
export { applyDockerChanges, bindOf, criDockerMapping, mountOf, toDockerConfig } from "./dockerMapping.js";
export type { MappedField } from "./dockerMapping.js";
export { CriMappingError, criStatusOf, withCriFieldNames } from "./errors.js";
export { CriStatusError, GrpcStatus } from "./grpcWire.js";
export type { GrpcStatusCode } from "./grpcWire.js";
export { CriUpstreamAddressError, parseCriUpstream } from "./upstream.js";
export { defaultCriSnapshotter, pulledImageOf } from "./pullImage.js";
