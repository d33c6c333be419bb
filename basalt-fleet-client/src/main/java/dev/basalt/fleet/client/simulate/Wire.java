package dev.basalt.fleet.client.simulate;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * One keep-alive HTTP/1.1 connection over TLS on a blocking socket. The simulator uses this instead of
 * java.net.http because every HttpClient owns a platform selector thread, and a simulated fleet has one client
 * identity per device: 10,000 devices would mean 10,000 platform threads. Blocking sockets on virtual threads cost a
 * few kilobytes each.
 */
final class Wire implements Closeable {
  /** An answer: status, ETag header (or null), body. */
  record Response(int status, String etag, byte[] body) {}

  private static final String[] NAMED_GROUPS = {"x25519"};

  private final SSLSocketFactory factory;
  private final String host;
  private final int port;
  private SSLSocket socket;
  private InputStream in;
  private OutputStream out;

  private final java.util.concurrent.Semaphore connecting;

  Wire(SSLSocketFactory factory, String host, int port) {
    this(factory, host, port, null);
  }

  /** @param connecting bounds how many connections are set up at once (null: no bound) */
  Wire(SSLSocketFactory factory, String host, int port, java.util.concurrent.Semaphore connecting) {
    this.factory = factory;
    this.host = host;
    this.port = port;
    this.connecting = connecting;
  }

  /** Sends one request; reconnects once when a kept-alive connection turns out closed. */
  Response exchange(String method, String path, String ifNoneMatch, byte[] body, int timeoutMillis) throws IOException {
    boolean fresh = socket == null;
    try {
      return attempt(method, path, ifNoneMatch, body, timeoutMillis);
    } catch (SocketTimeoutException e) {
      close();
      throw e;
    } catch (IOException e) {
      close();
      if (fresh) throw e;
      return attempt(method, path, ifNoneMatch, body, timeoutMillis);
    }
  }

  private Response attempt(String method, String path, String ifNoneMatch, byte[] body, int timeoutMillis) throws IOException {
    if (socket == null) connect(timeoutMillis);
    socket.setSoTimeout(timeoutMillis);
    StringBuilder h = new StringBuilder(256);
    h.append(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: ").append(host).append(':').append(port)
        .append("\r\nAccept: application/json\r\n");
    if (ifNoneMatch != null) h.append("If-None-Match: ").append(ifNoneMatch).append("\r\n");
    if (body != null) h.append("Content-Type: application/json\r\nContent-Length: ").append(body.length).append("\r\n");
    else if (!method.equals("GET")) h.append("Content-Length: 0\r\n");
    h.append("\r\n");
    out.write(h.toString().getBytes(StandardCharsets.US_ASCII));
    if (body != null) out.write(body);
    out.flush();
    return read(method);
  }

  private void connect(int timeoutMillis) throws IOException {
    if (connecting == null) {
      open(timeoutMillis);
      return;
    }
    try {
      connecting.acquire();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while waiting to connect");
    }
    try {
      open(timeoutMillis);
    } finally {
      connecting.release();
    }
  }

  private void open(int timeoutMillis) throws IOException {
    SSLSocket s = (SSLSocket) factory.createSocket();
    try {
      s.connect(new InetSocketAddress(host, port), timeoutMillis);
      s.setSoTimeout(timeoutMillis);
      s.setTcpNoDelay(true);
      // One key share: by default the JDK client computes two (x25519 and secp256r1) and the server uses one, which
      // on a simulated fleet is a third of the client's handshake CPU spent on nothing.
      javax.net.ssl.SSLParameters p = s.getSSLParameters();
      p.setNamedGroups(NAMED_GROUPS);
      s.setSSLParameters(p);
      s.startHandshake();
      in = new BufferedInputStream(s.getInputStream(), 8192);
      out = new java.io.BufferedOutputStream(s.getOutputStream(), 4096);
      socket = s;
    } catch (IOException e) {
      s.close();
      throw e;
    }
  }

  private Response read(String method) throws IOException {
    String status = line();
    if (!status.startsWith("HTTP/1.1 ") || status.length() < 12) throw new IOException("not an HTTP/1.1 answer: " + status);
    int code = Integer.parseInt(status.substring(9, 12));
    long length = -1;
    boolean chunked = false;
    boolean closeAfter = false;
    String etag = null;
    for (String l = line(); !l.isEmpty(); l = line()) {
      int c = l.indexOf(':');
      if (c < 0) continue;
      String name = l.substring(0, c).strip().toLowerCase(Locale.ROOT);
      String value = l.substring(c + 1).strip();
      switch (name) {
        case "content-length" -> length = Long.parseLong(value);
        case "transfer-encoding" -> chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
        case "connection" -> closeAfter = value.equalsIgnoreCase("close");
        case "etag" -> etag = value;
        default -> { }
      }
    }
    byte[] body;
    if (code == 204 || code == 304 || method.equals("HEAD")) body = new byte[0];
    else if (chunked) body = chunked();
    else if (length >= 0) body = in.readNBytes((int) length);
    else {
      body = in.readAllBytes();
      closeAfter = true;
    }
    if (closeAfter) close();
    return new Response(code, etag, body);
  }

  private byte[] chunked() throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    while (true) {
      String size = line();
      int semi = size.indexOf(';');
      int n = Integer.parseInt((semi < 0 ? size : size.substring(0, semi)).strip(), 16);
      if (n == 0) {
        while (!line().isEmpty()) { } // trailers
        return b.toByteArray();
      }
      b.write(in.readNBytes(n));
      line();
    }
  }

  private String line() throws IOException {
    StringBuilder sb = new StringBuilder(64);
    while (true) {
      int c = in.read();
      if (c < 0) throw new EOFException("connection closed by the server");
      if (c == '\n') break;
      if (c != '\r') sb.append((char) c);
    }
    return sb.toString();
  }

  boolean isOpen() {
    return socket != null;
  }

  @Override
  public void close() {
    SSLSocket s = socket;
    socket = null;
    if (s != null) {
      try {
        s.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
  }
}
