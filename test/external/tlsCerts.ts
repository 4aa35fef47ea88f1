/**
 * Certificates made at test time by the real `openssl` (the tests find it with test/support/tools.ts, the bench on
 * PATH): a CA, certificates it signs (with chosen subjectAltNames and validity dates, so expired ones too), and a
 * second, unrelated CA.
 */
import { execFile } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A certificate and key on disk, and their PEM text. */
export interface CertFiles {
  /** The certificate file. */
  readonly certFile: string;
  /** The private key file. */
  readonly keyFile: string;
  /** The certificate, PEM. */
  readonly cert: string;
  /** The key, PEM. */
  readonly key: string;
}

/** What a certificate is issued for. */
export interface CertRequest {
  /** The subject's common name. */
  readonly cn: string;
  /** subjectAltName entries ("IP:127.0.0.1", "DNS:localhost"); none by default. */
  readonly san?: readonly string[];
  /** Valid from, as openssl's YYYYMMDDHHMMSSZ (default: a day ago). */
  readonly start?: string;
  /** Valid until, as openssl's YYYYMMDDHHMMSSZ (default: a day from now). */
  readonly end?: string;
}

/** A test CA that signs certificates with `openssl ca`. */
export interface TestCa extends CertFiles {
  /** Issues a certificate signed by this CA into `<dir>/<name>.pem` and `.key`. */
  issue(name: string, request: CertRequest): Promise<CertFiles>;
}

function opensslDate(date: Date): string {
  return `${date.toISOString().replace(/[-:T]/g, "").slice(0, 14)}Z`;
}

async function newKeyAndRequest(openssl: string, dir: string, name: string, cn: string): Promise<{ keyFile: string; csrFile: string }> {
  const keyFile = join(dir, `${name}.key`);
  const csrFile = join(dir, `${name}.csr`);
  await run(openssl, ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", keyFile, "-out", csrFile, "-subj", `/CN=${cn}`]);
  return { keyFile, csrFile };
}

async function files(certFile: string, keyFile: string): Promise<CertFiles> {
  return { certFile, keyFile, cert: await readFile(certFile, "utf8"), key: await readFile(keyFile, "utf8") };
}

/** Makes a self-signed CA called `name` in `dir` (its own database folder beside it) with the `openssl` executable given. */
export async function makeCa(dir: string, name: string, openssl: string): Promise<TestCa> {
  const home = join(dir, `${name}-db`);
  await mkdir(home, { recursive: true });
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.pem`);
  await run(openssl, ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", keyFile, "-out", certFile, "-days", "2", "-subj", `/CN=${name}`]);
  await writeFile(join(home, "index.txt"), "");
  await writeFile(join(home, "serial"), "01\n");
  const config = join(home, "ca.cnf");
  await writeFile(
    config,
    [
      "[ca]",
      "default_ca = test",
      "[test]",
      `database = ${join(home, "index.txt")}`,
      `new_certs_dir = ${home}`,
      `serial = ${join(home, "serial")}`,
      "default_md = sha256",
      "policy = any",
      "unique_subject = no",
      "[any]",
      "commonName = supplied",
      "",
    ].join("\n"),
  );
  const ca = await files(certFile, keyFile);
  let queue = Promise.resolve();
  const issue = async (leaf: string, request: CertRequest): Promise<CertFiles> => {
    const { keyFile: leafKey, csrFile } = await newKeyAndRequest(openssl, dir, leaf, request.cn);
    const extFile = join(dir, `${leaf}.ext`);
    await writeFile(extFile, request.san?.length ? `subjectAltName=${request.san.join(",")}\n` : "basicConstraints=CA:FALSE\n");
    const leafCert = join(dir, `${leaf}.pem`);
    const now = Date.now();
    const start = request.start ?? opensslDate(new Date(now - 86_400_000));
    const end = request.end ?? opensslDate(new Date(now + 86_400_000));
    // openssl ca updates its database: one signing at a time
    const signed = queue.then(() =>
      run(openssl, ["ca", "-batch", "-notext", "-config", config, "-cert", certFile, "-keyfile", keyFile, "-in", csrFile, "-out", leafCert, "-startdate", start, "-enddate", end, "-extfile", extFile]),
    );
    queue = signed.then(() => undefined, () => undefined);
    await signed;
    return files(leafCert, leafKey);
  };
  return { ...ca, issue };
}

/** Everything the TLS tests use: a CA, the plugin's and a host's certificates by it, and an unrelated CA. */
export interface TestPki {
  /** The CA both sides trust. */
  readonly ca: TestCa;
  /** A CA nobody trusts. */
  readonly otherCa: TestCa;
  /** The plugin's certificate, for 127.0.0.1 and localhost. */
  readonly server: CertFiles;
  /** A host's client certificate. */
  readonly client: CertFiles;
}

/** Makes the CA, the plugin's certificate (SAN 127.0.0.1, localhost), a host's certificate and a second CA in `dir`. */
export async function makePki(dir: string, openssl: string): Promise<TestPki> {
  const [ca, otherCa] = await Promise.all([makeCa(dir, "ca", openssl), makeCa(dir, "other-ca", openssl)]);
  const [server, client] = await Promise.all([
    ca.issue("server", { cn: "plugin", san: ["IP:127.0.0.1", "DNS:localhost"] }),
    ca.issue("client", { cn: "host-1" }),
  ]);
  return { ca, otherCa, server, client };
}
