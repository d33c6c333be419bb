package dev.basalt.oci.registry;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Objects;

/** A registry user name and password (or token). {@link #toString()} never shows the password. */
public record Credentials(String username, String password) {
  public Credentials {
    Objects.requireNonNull(username, "username");
    Objects.requireNonNull(password, "password");
    if (username.isEmpty()) throw new IllegalArgumentException("credentials need a user name");
  }

  /**
   * Parses {@code user:password} as given to {@code --creds}; the password may contain colons.
   *
   * @throws IllegalArgumentException without echoing the password
   */
  public static Credentials parse(String userColonPassword) {
    int i = userColonPassword == null ? -1 : userColonPassword.indexOf(':');
    if (i <= 0) throw new IllegalArgumentException("credentials must be given as user:password");
    return new Credentials(userColonPassword.substring(0, i), userColonPassword.substring(i + 1));
  }

  /** The value of a Basic {@code Authorization} header. */
  String basicHeader() {
    return "Basic " + Base64.getEncoder().encodeToString((username + ":" + password).getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public String toString() {
    return "Credentials[" + username + ":***]";
  }
}
