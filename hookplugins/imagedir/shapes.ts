/**
 * The hookplugins types imagedir answers with (ImagePlugin.resolveImage's ResolvedImage and ImageRunConfig), spelled
 * out locally until the library version that exports them is merged; they match the library's types structurally.
 */

/** An image config as OCI's image-spec "config" object spells it (the library's ImageRunConfig). */
export interface ImageRunConfigShape {
  /** KEY=value environment. */
  Env?: string[];
  /** Default arguments. */
  Cmd?: string[];
  /** The program and its first arguments. */
  Entrypoint?: string[];
  /** Working directory. */
  WorkingDir?: string;
  /** User the process runs as. */
  User?: string;
  /** Labels. */
  Labels?: Record<string, string>;
}

/** What an image driver supplies (the library's ResolvedImage). */
export interface ResolvedImageShape {
  /** The reference it resolved. */
  readonly ref: string;
  /** Absolute path of the root filesystem folder. */
  readonly rootfs: string;
  /** The image's config. */
  readonly config: ImageRunConfigShape;
  /** The image's content digest, when it has one. */
  readonly digest?: string;
}
