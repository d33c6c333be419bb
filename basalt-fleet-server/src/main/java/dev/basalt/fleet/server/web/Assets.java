package dev.basalt.fleet.server.web;

import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;

/** The UI's static files, read from the class path once; only these names are served. */
final class Assets {
  private static final Map<String, String> TYPES = Map.of("app.css", "text/css; charset=utf-8", "app.js",
      "text/javascript; charset=utf-8", "favicon.svg", "image/svg+xml");
  private final Map<String, byte[]> files;

  Assets() {
    this.files = Map.of("app.css", load("app.css"), "app.js", load("app.js"), "favicon.svg", load("favicon.svg"));
  }

  private static byte[] load(String name) {
    String res = "/dev/basalt/fleet/server/web/" + name;
    try (InputStream in = Assets.class.getResourceAsStream(res)) {
      if (in == null) throw new IllegalStateException(res + " is missing from the class path");
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  void serve(ServerRequest req, ServerResponse res) {
    String name = req.path().pathParameters().get("file");
    byte[] b = files.get(name);
    if (b == null) {
      res.status(Status.NOT_FOUND_404).header("Content-Type", "text/plain; charset=utf-8").send("no such file");
      return;
    }
    res.header("Content-Type", TYPES.get(name));
    res.header("X-Content-Type-Options", "nosniff");
    res.header("Cache-Control", "no-cache");
    res.send(b);
  }
}
