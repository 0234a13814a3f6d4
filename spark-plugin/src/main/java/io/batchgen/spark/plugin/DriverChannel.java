package io.batchgen.spark.plugin;

import io.batchgen.spark.plugin.PluginMessages.Message;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.spark.api.plugin.PluginContext;

/**
 * The executor's end of the plugin RPC: every message goes out as {@link PluginWire} bytes and
 * every reply comes back through {@link PluginWire#decode}, so nothing of ours is left for
 * Spark's RPC layer to deserialise. Asks are bounded by this channel's own timeout, whatever
 * {@code spark.rpc.askTimeout} says.
 *
 * <p>Thread-safe; used by the executor plugin at start, by the load reporter, and by tasks.
 */
final class DriverChannel implements AutoCloseable {
  private final PluginContext ctx;
  private final Duration askTimeout;
  private final ExecutorService asks = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "batchgen-driver-ask");
    t.setDaemon(true);
    return t;
  });

  DriverChannel(PluginContext ctx, Duration askTimeout) {
    this.ctx = ctx;
    this.askTimeout = askTimeout;
  }

  /**
   * Asks the driver plugin and decodes its answer.
   *
   * @throws IllegalStateException when the driver does not answer within the timeout, the RPC
   *                               fails, or the answer is not a {@code replyType}
   */
  <T extends Message> T ask(Message message, Class<T> replyType) {
    return PluginWire.decode(askRaw(message, askTimeout), replyType);
  }

  /**
   * Asks the driver plugin where the answer is only an acknowledgement (null), waiting at most
   * {@code timeout} (or the channel's timeout, if shorter).
   */
  void askForAck(Message message, Duration timeout) {
    Object reply = askRaw(message, timeout.compareTo(askTimeout) < 0 ? timeout : askTimeout);
    if (reply != null) {
      PluginWire.decode(reply); // a reply must still be one of ours
    }
  }

  private Object askRaw(Message message, Duration timeout) {
    byte[] bytes = PluginWire.encode(message);
    CompletableFuture<Object> reply = CompletableFuture.supplyAsync(() -> {
      try {
        return ctx.ask(bytes);
      } catch (Exception e) {
        throw new java.util.concurrent.CompletionException(e);
      }
    }, asks);
    String what = message.getClass().getSimpleName();
    try {
      return reply.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      reply.cancel(true);
      throw new IllegalStateException("the BatchGen driver plugin did not answer " + what
          + " within " + timeout.toMillis() / 1000.0 + " s (spark.batchgen.plugin.registrationTimeout);"
          + " check that the driver is reachable from this executor and that spark.plugins "
          + "names io.batchgen.spark.BatchGenPlugin for the whole application");
    } catch (ExecutionException e) {
      Throwable cause = e.getCause() instanceof java.util.concurrent.CompletionException c
          && c.getCause() != null ? c.getCause() : e.getCause();
      throw new IllegalStateException("asking the BatchGen driver plugin (" + what
          + ") failed: " + cause, cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while asking the BatchGen driver plugin", e);
    }
  }

  /** Fire-and-forget to the driver plugin. */
  void send(Message message) throws IOException {
    ctx.send(PluginWire.encode(message));
  }

  @Override
  public void close() {
    asks.shutdownNow();
  }
}
