/**
 * The pod sandbox metadata that CriPlugin.preCreateContainer receives.
 *
 * Written by hand, not generated: swagger.yml does not define it. `SandboxMeta` mirrors the struct of the
 * same name in PouchContainer's `cri/v1alpha2` Go package (Go field names, no JSON tags). Its `Config` is the
 * CRI `PodSandboxConfig` message, under its protobuf field names: the generated type (criApi.generated.ts), whose
 * fields are all optional, so that hosts can build partial values.
 *
 * `CriSandboxMeta` and `CriPulledImage` are what the CRI relay (hookplugins/cri) passes to plugins.
 */
import type { CriImage, CriLinuxPodSandboxConfig, CriPodSandboxConfig, CriPodSandboxMetadata } from "./criApi.generated.js";

/** What identifies a pod sandbox (CRI `PodSandboxMetadata`): the generated type. */
export type PodSandboxMetadata = CriPodSandboxMetadata;

/** Linux-specific pod sandbox settings (CRI `LinuxPodSandboxConfig`): the generated type. */
export type LinuxPodSandboxConfig = CriLinuxPodSandboxConfig;

/** The CRI configuration the sandbox was created with (CRI `PodSandboxConfig`, the same in v1 and v1alpha2): the generated type. */
export type PodSandboxConfig = CriPodSandboxConfig;

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
