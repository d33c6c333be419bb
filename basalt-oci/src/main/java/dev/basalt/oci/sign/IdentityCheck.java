package dev.basalt.oci.sign;

/** Decides whether the identity a simple-signing payload claims ({@code critical.identity.docker-reference}) fits. */
@FunctionalInterface
public interface IdentityCheck {
  /** @return null when acceptable, else the reason it is not */
  String mismatch(String signedDockerReference);

  /** Any identity (cosign's own {@code verify} checks only key and digest). */
  static IdentityCheck any() {
    return r -> null;
  }

  /** The signed identity must name {@code repository} ({@code host/path}), with any tag or digest. */
  static IdentityCheck sameRepository(String repository) {
    return r -> {
      String name;
      try {
        name = dev.basalt.oci.ref.DockerReference.parse(r).name();
      } catch (IllegalArgumentException e) {
        return "signed identity '" + r + "' is not a valid image reference";
      }
      return name.equals(repository) ? null : "signed for repository " + name + ", not " + repository;
    };
  }
}
