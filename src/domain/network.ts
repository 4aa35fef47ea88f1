/**
 * The network endpoint that ContainerPlugin.preCreateEndpoint receives.
 *
 * Written by hand, not generated: swagger.yml does not define it. It mirrors the `Endpoint` struct of
 * PouchContainer's `network/types` Go package; field names are the Go names (the struct has no JSON tags).
 * Every field is optional so that hosts can build partial endpoints; in Go each field has a zero value.
 */
import type { EndpointSettings, NetworkSettings, PortMap } from "./pouchApi.generated.js";

/** A container's network endpoint while the daemon prepares it (PouchContainer's `network/types.Endpoint`). */
export interface Endpoint {
  /** Name of the network the endpoint is created on. */
  Name?: string;
  /** The endpoint's identifier. */
  ID?: string;
  /** ID of the container that owns the endpoint. */
  Owner?: string;

  /** Host name given to the container (an RFC 1123 host name). */
  Hostname?: string;
  /** Domain name given to the container. */
  Domainname?: string;
  /** Host path of the file mounted as the container's /etc/hostname. */
  HostnamePath?: string;
  /** Host path of the file mounted as the container's /etc/hosts. */
  HostsPath?: string;
  /** Extra `hostname:IP` lines for the container's /etc/hosts. */
  ExtraHosts?: string[];
  /** Host path of the file mounted as the container's /etc/resolv.conf. */
  ResolvConfPath?: string;
  /** DNS server addresses written to resolv.conf. */
  DNS?: string[];
  /** DNS `options` entries written to resolv.conf. */
  DNSOptions?: string[];
  /** DNS search domains written to resolv.conf. */
  DNSSearch?: string[];

  /** True when the container runs without networking. */
  NetworkDisabled?: boolean;
  /** The container's network mode (`bridge`, `host`, `none`, `container:<id>`, or a network name). */
  NetworkMode?: string;
  /** MAC address requested for the endpoint's interface. */
  MacAddress?: string;
  /** When true, every exposed port is published on a random host port. */
  PublishAllPorts?: boolean;
  /** Ports the container exposes, keyed `<port>/<protocol>`; values carry no data. */
  ExposedPorts?: Record<string, unknown>;
  /** Host ports bound to container ports, keyed `<port>/<protocol>`. */
  PortBindings?: PortMap;

  /** The container's network settings, as ContainerJSON reports them. */
  NetworkConfig?: NetworkSettings;
  /** Per-network settings of this endpoint (IPAM request, addresses, gateway, driver options). */
  EndpointConfig?: EndpointSettings;

  /** Driver-specific options for creating the endpoint; preCreateEndpoint plugins typically add to it. */
  GenericParams?: Record<string, unknown>;
  /** Join priority among the container's endpoints (the network stack orders them by it, higher first). */
  Priority?: number;
  /** When true, the network's embedded DNS resolver is not set up for this endpoint. */
  DisableResolver?: boolean;
}
