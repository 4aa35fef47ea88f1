/**
 * The pod sandbox metadata that CriPlugin.preCreateContainer receives.
 *
 * Written by hand, not generated: swagger.yml does not define it. `SandboxMeta` mirrors the struct of the
 * same name in PouchContainer's `cri/v1alpha2` Go package (Go field names, no JSON tags). Its `Config` is the
 * CRI v1alpha2 `PodSandboxConfig` message, described here by its commonly used fields under their protobuf
 * JSON names. Every field is optional so that hosts can build partial values.
 */

/** What identifies a pod sandbox (CRI `PodSandboxMetadata`). */
export interface PodSandboxMetadata {
  /** Name of the pod. */
  name?: string;
  /** UID of the pod. */
  uid?: string;
  /** Kubernetes namespace of the pod. */
  namespace?: string;
  /** How many times the sandbox was created before this one (0 the first time). */
  attempt?: number;
}

/** DNS settings of a pod sandbox (CRI `DNSConfig`). */
export interface CriDNSConfig {
  /** DNS server addresses. */
  servers?: string[];
  /** DNS search domains. */
  searches?: string[];
  /** resolv.conf `options` entries. */
  options?: string[];
}

/** One port published by a pod sandbox (CRI `PortMapping`). */
export interface CriPortMapping {
  /** Protocol as the CRI enum number: 0 TCP, 1 UDP, 2 SCTP. */
  protocol?: number;
  /** Port inside the pod; 0 when unset. */
  container_port?: number;
  /** Port on the host; 0 when unset. */
  host_port?: number;
  /** Host address the port is bound to. */
  host_ip?: string;
}

/** Linux-specific pod sandbox settings (CRI `LinuxPodSandboxConfig`). */
export interface LinuxPodSandboxConfig {
  /** Parent cgroup of the sandbox, in cgroupfs syntax. */
  cgroup_parent?: string;
  /** Security settings of the sandbox (namespaces, SELinux, user, privileged, seccomp...). */
  security_context?: Record<string, unknown>;
  /** Kernel parameters set in the sandbox. */
  sysctls?: Record<string, string>;
}

/** The CRI configuration the sandbox was created with (CRI v1alpha2 `PodSandboxConfig`). */
export interface PodSandboxConfig {
  /** Identity of the pod the sandbox belongs to. */
  metadata?: PodSandboxMetadata;
  /** Host name of the sandbox. */
  hostname?: string;
  /** Host directory where the pod's container logs are written. */
  log_directory?: string;
  /** DNS settings of the sandbox. */
  dns_config?: CriDNSConfig;
  /** Ports the sandbox publishes on the host. */
  port_mappings?: CriPortMapping[];
  /** Labels of the pod, used to select it. */
  labels?: Record<string, string>;
  /** Annotations of the pod: free-form data set by Kubernetes or users. */
  annotations?: Record<string, string>;
  /** Linux-specific settings. */
  linux?: LinuxPodSandboxConfig;
}

/** Metadata of the pod sandbox a CRI container is created in (PouchContainer's `cri/v1alpha2.SandboxMeta`). */
export interface SandboxMeta {
  /** ID of the sandbox (its pause container). */
  ID?: string;
  /** The CRI configuration the sandbox was created with. */
  Config?: PodSandboxConfig;
  /** Name of the OCI runtime the sandbox runs with. */
  Runtime?: string;
  /** Whether lxcfs is enabled for the sandbox's containers. */
  LxcfsEnabled?: boolean;
  /** Path of the sandbox's network namespace. */
  NetNS?: string;
}
