/**
 * Signature policy: which images may be used, in the format of containers-policy.json(5) (the file skopeo, podman
 * and CRI-O read): a {@code default} requirement list and per-scope lists under {@code transports.docker}, matched
 * most specific first. Requirements: {@code insecureAcceptAnything}, {@code reject}, and {@code sigstoreSigned} with
 * public keys ({@code keyPath(s)} / {@code keyData(s)}), optional Rekor log keys ({@code rekorPublicKey*}) and a
 * {@code signedIdentity} rule. GPG {@code signedBy} and Fulcio/PKI requirements parse but always reject. {@link
 * dev.basalt.oci.policy.SignaturePolicy} is the hook the node, disk and server sides call before using an image.
 */
package dev.basalt.oci.policy;
