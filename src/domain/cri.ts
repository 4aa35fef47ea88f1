/**
 * The pod sandbox metadata that CriPlugin.preCreateContainer receives.
 *
 * Written by hand, not generated: swagger.yml does not define it. `SandboxMeta` mirrors the struct of the
 * same name in PouchContainer's `cri/v1alpha2` Go package (Go field names, no JSON tags). Its `Config` is the
 * CRI v1alpha2 `PodSandboxConfig` message, described here by its commonly used fields under their protobuf
 * JSON names. Every field is optional so that hosts can build partial values. `CriDNSConfig` and `CriPortMapping`
 * are the generated CRI types (criApi.generated.ts), which have the same fields.
 *
 * `CriSandboxMeta` and `CriPulledImage` are what the CRI relay (hookplugins/cri) passes to plugins.
 */
import type { CriDNSConfig, CriImage, CriPodSandboxConfig, CriPortMapping } from "./criApi.generated.js";

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

/** The pod sandbox metadata the CRI relay passes to CriPlugin.preCreateContainer: from the CreateContainer request. */
export interface CriSandboxMeta {
  /** The request's `pod_sandbox_id`. */
  ID: string;
  /** The request's `sandbox_config`, typed from the proto (empty when the request has none). */
  Config: CriPodSandboxConfig;
}

/**
 * The image the CRI relay passes to ImagePlugin.postPull: the `image` of the runtime's ImageStatus reply, plus the
 * Docker-style `ImageInfo` fields it maps to, so that a plugin written for Docker's image inspect reads the same values.
 */
export interface CriPulledImage extends CriImage {
  /** `id` (ImageInfo.Id). */
  Id: string;
  /** `repo_tags` (ImageInfo.RepoTags). */
  RepoTags: string[];
  /** `repo_digests` (ImageInfo.RepoDigests). */
  RepoDigests: string[];
  /** `size` in bytes (ImageInfo.Size). */
  Size: number;
}
