package dev.basalt.fleet.server.http;

import io.helidon.http.Method;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRouting;
import java.util.List;

/** Registers routes on a Helidon routing and remembers them (the OpenAPI test checks each is documented). */
final class Routes {
  private final HttpRouting.Builder routing;
  private final List<String> registered;

  Routes(HttpRouting.Builder routing, List<String> registered) {
    this.routing = routing;
    this.registered = registered;
  }

  Routes add(Method method, String path, Handler handler) {
    registered.add(method.text() + " " + path);
    routing.route(method, path, handler);
    return this;
  }

  Routes get(String path, Handler h) {
    return add(Method.GET, path, h);
  }

  Routes post(String path, Handler h) {
    return add(Method.POST, path, h);
  }

  Routes put(String path, Handler h) {
    return add(Method.PUT, path, h);
  }

  Routes patch(String path, Handler h) {
    return add(Method.PATCH, path, h);
  }

  Routes delete(String path, Handler h) {
    return add(Method.DELETE, path, h);
  }
}
