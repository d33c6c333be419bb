/**
 * cosign-compatible, key-based image signing and verification: cosign's encrypted key files, the legacy
 * "simple signing" signatures stored under the {@code sha256-<hex>.sig} tag, and Sigstore bundles (v0.3, DSSE over
 * an in-toto statement) attached as OCI 1.1 referrers. Keys are ECDSA P-256; signatures are DER ECDSA over SHA-256.
 * Keyless (Fulcio certificate) signatures and transparency-log checks are out of scope.
 */
package dev.basalt.oci.sign;
