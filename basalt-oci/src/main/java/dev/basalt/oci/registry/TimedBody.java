package dev.basalt.oci.registry;

import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A response body as a blocking InputStream whose reads time out: java.net.http only times out until the headers
 * arrive, so a server that stalls mid-body would block {@code ofInputStream()} readers forever.
 */
final class TimedBody extends InputStream implements HttpResponse.BodySubscriber<InputStream> {
  private static final List<ByteBuffer> EOF = List.of();

  private final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
  private final long timeoutNanos;
  private final String url;
  private volatile Flow.Subscription subscription;
  private Iterator<ByteBuffer> current;
  private ByteBuffer buffer;
  private boolean done;
  private volatile boolean closed;

  TimedBody(Duration timeout, String url) {
    this.timeoutNanos = timeout.toNanos();
    this.url = url;
  }

  static HttpResponse.BodyHandler<InputStream> handler(Duration timeout, String url) {
    return info -> new TimedBody(timeout, url);
  }

  @Override
  public CompletionStage<InputStream> getBody() {
    return CompletableFuture.completedFuture(this);
  }

  @Override
  public void onSubscribe(Flow.Subscription s) {
    subscription = s;
    if (closed) s.cancel();
    else s.request(1);
  }

  @Override
  public void onNext(List<ByteBuffer> item) {
    queue.add(item);
  }

  @Override
  public void onError(Throwable t) {
    queue.add(t);
  }

  @Override
  public void onComplete() {
    queue.add(EOF);
  }

  /** Next non-empty buffer, or null at the end. */
  private ByteBuffer next() throws IOException {
    while (buffer == null || !buffer.hasRemaining()) {
      if (done) return null;
      if (current != null && current.hasNext()) {
        buffer = current.next();
        continue;
      }
      if (current != null) {
        current = null;
        subscription.request(1);
      }
      Object o;
      try {
        o = queue.poll(timeoutNanos, TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        close();
        throw new java.io.InterruptedIOException("interrupted while reading " + url);
      }
      if (o == null) {
        close();
        throw new HttpTimeoutException("no data for " + Duration.ofNanos(timeoutNanos).toMillis() + " ms while reading "
            + url);
      }
      if (o instanceof Throwable t) {
        done = true;
        throw new IOException("connection failed while reading " + url + ": " + t, t);
      }
      @SuppressWarnings("unchecked")
      List<ByteBuffer> list = (List<ByteBuffer>) o;
      if (list == EOF) {
        done = true;
        return null;
      }
      current = list.iterator();
    }
    return buffer;
  }

  @Override
  public int read() throws IOException {
    ByteBuffer b = next();
    return b == null ? -1 : b.get() & 0xff;
  }

  @Override
  public int read(byte[] dst, int off, int len) throws IOException {
    if (len == 0) return 0;
    if (closed) throw new IOException("stream closed: " + url);
    ByteBuffer b = next();
    if (b == null) return -1;
    int n = Math.min(len, b.remaining());
    b.get(dst, off, n);
    return n;
  }

  @Override
  public int available() {
    return buffer == null ? 0 : buffer.remaining();
  }

  @Override
  public void close() {
    if (closed) return;
    closed = true;
    Flow.Subscription s = subscription;
    if (s != null && !done) s.cancel();
  }
}
