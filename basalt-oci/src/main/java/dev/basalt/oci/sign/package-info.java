/**
 * cosign-compatible, key-based image signing and verification: cosign's encrypted key files, the legacy
 * "simple signing" signatures stored under the {@code sha256-<hex>.sig} tag, and Sigstore bundles (v0.3, DSSE over
 * an in-toto statement) attached as OCI 1.1 referrers. Keys are ECDSA P-256; signatures are DER ECDSA over SHA-256.
 * Rekor SETs on simple signatures can be checked offline against a log key ({@link dev.basalt.oci.sign.RekorSet});
 * keyless (Fulcio certificate) signatures, inclusion proofs and RFC 3161 timestamps are out of scope.
 */
package dev.basalt.oci.sign;
