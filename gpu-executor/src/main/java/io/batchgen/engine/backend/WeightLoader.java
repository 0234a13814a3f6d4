package io.batchgen.engine.backend;

import io.batchgen.engine.model.WeightTensor;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The loader thread of a {@link WeightStore}: brings in the modules the runtime expects next
 * while the scheduler thread computes, so loading overlaps compute.
 *
 * <p>Each {@link #hint} replaces the previous one: a list of modules (each its matrices), most
 * wanted first. The loader walks it in order, loading what is absent; it makes room only by
 * evicting matrices wanted less (or not at all), and stops the round when it cannot, or as soon
 * as a newer hint arrives. A failed prefetch is logged and left to the on-demand load, which then
 * reports the error on the module call.
 *
 * <p>Thread-safety: {@link #hint} from the scheduler thread; {@link #close} from the executor's
 * owner. The thread is never interrupted (an interrupt would close the checkpoint's channel).
 */
final class WeightLoader implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(WeightLoader.class);

  private final WeightStore store;
  private final Thread thread;
  private List<List<WeightTensor>> modules = List.of();
  private long generation;
  private boolean closed;

  WeightLoader(WeightStore store) {
    this.store = store;
    this.thread = new Thread(this::loop, "batchgen-weight-loader");
    thread.setDaemon(true);
    thread.start();
  }

  /** The modules wanted next, most wanted first; replaces the previous hint. */
  void hint(List<List<WeightTensor>> ranked) {
    Map<WeightTensor, Integer> wanted = new IdentityHashMap<>();
    for (int i = 0; i < ranked.size(); i++) {
      for (WeightTensor w : ranked.get(i)) {
        wanted.putIfAbsent(w, i);
      }
    }
    store.want(wanted);
    synchronized (this) {
      modules = ranked;
      generation++;
      notifyAll();
    }
  }

  private void loop() {
    long seen = 0;
    while (true) {
      List<List<WeightTensor>> work;
      long gen;
      synchronized (this) {
        while (!closed && generation == seen) {
          try {
            wait();
          } catch (InterruptedException e) {
            return;
          }
        }
        if (closed) {
          return;
        }
        work = modules;
        gen = generation;
        seen = gen;
      }
      round:
      for (int rank = 0; rank < work.size(); rank++) {
        for (WeightTensor w : work.get(rank)) {
          synchronized (this) {
            if (closed || generation != gen) {
              break round;
            }
          }
          try {
            if (!store.load(w, rank)) {
              break round;
            }
          } catch (RuntimeException e) {
            LOG.warn("Prefetching {} failed; it loads when a module needs it", w.name(), e);
            break round;
          }
        }
      }
    }
  }

  @Override
  public void close() {
    synchronized (this) {
      closed = true;
      notifyAll();
    }
    try {
      thread.join(TimeUnit.SECONDS.toMillis(30));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
