package dev.basalt.oci.policy;

import dev.basalt.oci.ref.DockerReference;
import dev.basalt.oci.ref.ImageReference;
import dev.basalt.oci.sign.IdentityCheck;
import java.util.Objects;

/**
 * How the identity a signature claims must relate to the image reference (containers-policy.json(5)
 * {@code signedIdentity}). cosign signs the bare repository, so tagged references need {@link MatchRepository};
 * the default {@link MatchRepoDigestOrExact} accepts such signatures only for references by digest.
 */
public sealed interface SignedIdentity {
  /** @return null when {@code signed} fits {@code image}, else why not */
  String mismatch(ImageReference image, String signed);

  default IdentityCheck bind(ImageReference image) {
    return signed -> mismatch(image, signed);
  }

  /** The signed reference must equal the image reference, tag or digest included. */
  record MatchExact() implements SignedIdentity {
    @Override
    public String mismatch(ImageReference image, String signed) {
      DockerReference i = docker(image);
      if (i == null) return noDockerReference(image);
      Signed s = Signed.parse(signed);
      if (s.error != null) return s.error;
      return !s.nameOnly && s.ref.familiar().equals(i.familiar()) ? null
          : "signed identity " + signed + " is not exactly " + i.familiar();
    }
  }

  /** By digest: same repository; by tag: the exact reference. */
  record MatchRepoDigestOrExact() implements SignedIdentity {
    @Override
    public String mismatch(ImageReference image, String signed) {
      DockerReference i = docker(image);
      if (i == null) return noDockerReference(image);
      return repoDigestOrExact(i, signed);
    }
  }

  /** The same repository, whatever the tag or digest. */
  record MatchRepository() implements SignedIdentity {
    @Override
    public String mismatch(ImageReference image, String signed) {
      DockerReference i = docker(image);
      if (i == null) return noDockerReference(image);
      Signed s = Signed.parse(signed);
      if (s.error != null) return s.error;
      return s.ref.name().equals(i.name()) ? null
          : "signed for repository " + s.ref.name() + ", not " + i.name();
    }
  }

  /** The signature must name exactly {@code reference} (a tagged or digested reference), whatever the image. */
  record ExactReference(DockerReference reference) implements SignedIdentity {
    public ExactReference {
      Objects.requireNonNull(reference, "reference");
    }

    @Override
    public String mismatch(ImageReference image, String signed) {
      Signed s = Signed.parse(signed);
      if (s.error != null) return s.error;
      return !s.nameOnly && s.ref.familiar().equals(reference.familiar()) ? null
          : "signed identity " + signed + " is not " + reference.familiar();
    }
  }

  /** The signature must name {@code repository} ({@code host/path}), whatever the image. */
  record ExactRepository(String repository) implements SignedIdentity {
    public ExactRepository {
      Objects.requireNonNull(repository, "repository");
    }

    @Override
    public String mismatch(ImageReference image, String signed) {
      Signed s = Signed.parse(signed);
      if (s.error != null) return s.error;
      return s.ref.name().equals(repository) ? null : "signed for repository " + s.ref.name() + ", not " + repository;
    }
  }

  /**
   * When the image reference starts with {@code prefix}, that part is replaced by {@code signedPrefix} before the
   * {@link MatchRepoDigestOrExact} rule (for mirrors: images pulled from one place, signed as another).
   */
  record RemapIdentity(String prefix, String signedPrefix) implements SignedIdentity {
    public RemapIdentity {
      Objects.requireNonNull(prefix, "prefix");
      Objects.requireNonNull(signedPrefix, "signedPrefix");
    }

    @Override
    public String mismatch(ImageReference image, String signed) {
      DockerReference i = docker(image);
      if (i == null) return noDockerReference(image);
      String f = i.familiar();
      if (f.startsWith(prefix) && (f.length() == prefix.length() || "/:@".indexOf(f.charAt(prefix.length())) >= 0)) {
        try {
          i = DockerReference.parse(signedPrefix + f.substring(prefix.length()));
        } catch (IllegalArgumentException e) {
          return "remapping " + f + " with prefix " + signedPrefix + " gives an invalid reference: " + e.getMessage();
        }
      }
      return repoDigestOrExact(i, signed);
    }
  }

  private static String repoDigestOrExact(DockerReference i, String signed) {
    Signed s = Signed.parse(signed);
    if (s.error != null) return s.error;
    if (i.digest() != null) {
      return s.ref.name().equals(i.name()) ? null : "signed for repository " + s.ref.name() + ", not " + i.name();
    }
    if (s.nameOnly) {
      return "signed identity " + signed + " has no tag, and the image is referenced by tag " + i.familiar()
          + " (signedIdentity matchRepoDigestOrExact; cosign signatures need matchRepository or a digest reference)";
    }
    return s.ref.familiar().equals(i.familiar()) ? null : "signed identity " + signed + " is not " + i.familiar();
  }

  private static DockerReference docker(ImageReference image) {
    return image instanceof DockerReference d ? d : null;
  }

  private static String noDockerReference(ImageReference image) {
    return "image " + image + " has no registry identity to compare the signed identity with";
  }

  /** A signed docker-reference, remembering whether it named a tag or digest (parsing adds ':latest'). */
  final class Signed {
    final DockerReference ref;
    final boolean nameOnly;
    final String error;

    private Signed(DockerReference ref, boolean nameOnly, String error) {
      this.ref = ref;
      this.nameOnly = nameOnly;
      this.error = error;
    }

    static Signed parse(String s) {
      try {
        DockerReference r = DockerReference.parse(s);
        String last = s.substring(s.lastIndexOf('/') + 1);
        return new Signed(r, !s.contains("@") && !last.contains(":"), null);
      } catch (IllegalArgumentException e) {
        return new Signed(null, true, "signed identity '" + s + "' is not a valid image reference");
      }
    }
  }
}
