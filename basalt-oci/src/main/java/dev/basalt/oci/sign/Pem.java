package dev.basalt.oci.sign;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** One PEM block: a label and its DER / JSON body. Written with 64-character lines, as Go's encoding/pem does. */
record Pem(String label, byte[] body) {
  private static final Pattern BLOCK = Pattern.compile(
      "-----BEGIN ([A-Z0-9 ]+)-----\\r?\\n(.*?)-----END \\1-----", Pattern.DOTALL);

  static Pem parse(byte[] text, String what) throws SignException {
    Matcher m = BLOCK.matcher(new String(text, StandardCharsets.US_ASCII));
    if (!m.find()) throw new SignException(what + " is not PEM (no -----BEGIN ...----- / -----END ...----- block)");
    String body = m.group(2);
    if (body.contains(":")) throw new SignException(what + ": PEM headers are not supported");
    try {
      return new Pem(m.group(1), Base64.getMimeDecoder().decode(body.replaceAll("\\s", "")));
    } catch (IllegalArgumentException e) {
      throw new SignException(what + ": PEM block '" + m.group(1) + "' has invalid base64: " + e.getMessage());
    }
  }

  String encode() {
    String b64 = Base64.getEncoder().encodeToString(body);
    StringBuilder sb = new StringBuilder("-----BEGIN ").append(label).append("-----\n");
    for (int i = 0; i < b64.length(); i += 64) sb.append(b64, i, Math.min(b64.length(), i + 64)).append('\n');
    return sb.append("-----END ").append(label).append("-----\n").toString();
  }
}
