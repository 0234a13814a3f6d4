package io.batchgen.core.runtime;

/**
 * Chooses which module runs next. The scheduler calls it on its thread whenever it is ready to
 * dispatch a module batch and at least one queue is non-empty; the batch then takes rows from the
 * front of the chosen queue (oldest first), up to the module kind's row limit.
 *
 * <p>The scheduler overrides the choice for a queue whose oldest row has waited more than
 * {@link RuntimeConfig#starvationLimitBatches()} batches beyond one batch per module of the model,
 * so a policy cannot starve a sequence.
 * Implementations must be deterministic given the view, and must not throw.
 */
@FunctionalInterface
public interface SchedulingPolicy {

  /** Index (into {@code view}) of the queue to run next. */
  int choose(QueueView view);

  /**
   * A policy instance for one runtime. Stateful policies return a new instance so runtimes that
   * share a config do not share state; stateless ones return themselves.
   */
  default SchedulingPolicy fresh() {
    return this;
  }

  /**
   * Sweeps through the model like a wavefront: the first non-empty queue at or after the module
   * it ran last, in model order, wrapping around to attention of layer 0. Each module therefore
   * runs once per sweep with every row that reached it since, which keeps expert batches as large
   * as lock-step's, while sequences still join and leave between any two modules. The default.
   */
  static SchedulingPolicy sweep() {
    return new Sweep();
  }

  /** See {@link #sweep()}. */
  final class Sweep implements SchedulingPolicy {
    private int cursor;

    @Override
    public SchedulingPolicy fresh() {
      return new Sweep();
    }

    @Override
    public int choose(QueueView view) {
      int ahead = -1;
      int first = 0;
      for (int i = 0; i < view.size(); i++) {
        int order = view.modelOrder(i);
        if (order < view.modelOrder(first)) {
          first = i;
        }
        if (order >= cursor && (ahead < 0 || order < view.modelOrder(ahead))) {
          ahead = i;
        }
      }
      int choice = ahead >= 0 ? ahead : first;
      cursor = view.modelOrder(choice);
      return choice;
    }
  }

  /**
   * {@link #sweep()} aware of streamed weights: when the sweep's next module is an expert whose
   * weights are not in memory, a resident expert of the same layer with rows waiting runs first
   * (most rows first), so tokens keep accumulating for the absent one while the backend brings it
   * in; the absent expert runs when no resident one of its layer is left. With every weight
   * resident it is exactly the sweep.
   */
  static SchedulingPolicy weightAware() {
    return new WeightAware();
  }

  /** See {@link #weightAware()}. */
  final class WeightAware implements SchedulingPolicy {
    private final Sweep sweep = new Sweep();

    @Override
    public SchedulingPolicy fresh() {
      return new WeightAware();
    }

    @Override
    public int choose(QueueView view) {
      int next = sweep.choose(view);
      io.batchgen.core.model.ModuleKey key = view.key(next);
      if (key.kind() != io.batchgen.core.model.ModuleKind.EXPERT || view.resident(next)) {
        return next;
      }
      int best = -1;
      for (int i = 0; i < view.size(); i++) {
        io.batchgen.core.model.ModuleKey k = view.key(i);
        if (k.kind() == io.batchgen.core.model.ModuleKind.EXPERT && k.layer() == key.layer()
            && view.resident(i) && (best < 0 || view.rows(i) > view.rows(best))) {
          best = i;
        }
      }
      // the sweep's cursor stays on the absent expert, so it runs once its layer's resident
      // experts are done
      return best >= 0 ? best : next;
    }
  }

  /** The queue with the most waiting rows; ties go to the module furthest along the model. */
  static SchedulingPolicy largestBatch() {
    return view -> {
      int best = 0;
      for (int i = 1; i < view.size(); i++) {
        int d = Integer.compare(view.rows(i), view.rows(best));
        if (d > 0 || (d == 0 && view.modelOrder(i) > view.modelOrder(best))) {
          best = i;
        }
      }
      return best;
    };
  }

  /** The queue whose oldest row has waited longest; ties to the module furthest along. */
  static SchedulingPolicy oldestWait() {
    return view -> {
      int best = 0;
      for (int i = 1; i < view.size(); i++) {
        int d = Long.compare(view.oldestTick(i), view.oldestTick(best));
        if (d < 0 || (d == 0 && view.modelOrder(i) > view.modelOrder(best))) {
          best = i;
        }
      }
      return best;
    };
  }

  /**
   * When KV use is at or above {@code threshold}, the module furthest along the model (sequences
   * closest to finishing a token, so closest to freeing memory); otherwise
   * {@link #largestBatch()}.
   */
  static SchedulingPolicy memoryPressureFirst(double threshold) {
    SchedulingPolicy relaxed = largestBatch();
    return view -> {
      if (view.kvUtilization() < threshold) {
        return relaxed.choose(view);
      }
      int best = 0;
      for (int i = 1; i < view.size(); i++) {
        if (view.modelOrder(i) > view.modelOrder(best)) {
          best = i;
        }
      }
      return best;
    };
  }

  /** The module earliest in the model; what lock-step mode uses. */
  static SchedulingPolicy modelOrder() {
    return view -> {
      int best = 0;
      for (int i = 1; i < view.size(); i++) {
        if (view.modelOrder(i) < view.modelOrder(best)) {
          best = i;
        }
      }
      return best;
    };
  }
}
