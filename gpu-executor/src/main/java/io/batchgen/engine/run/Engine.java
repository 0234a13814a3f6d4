package io.batchgen.engine.run;

import io.batchgen.core.model.ModelShape;
import io.batchgen.core.model.ModuleExecutor;
import io.batchgen.core.runtime.GenerationRequest;
import io.batchgen.core.runtime.SequenceResult;
import io.batchgen.core.runtime.ResultListener;
import io.batchgen.core.runtime.ResultQueue;
import io.batchgen.core.runtime.RuntimeConfig;
import io.batchgen.core.runtime.RuntimeMetrics;
import io.batchgen.core.runtime.SequenceRuntime;
import io.batchgen.core.sampling.Detokenizer;
import io.batchgen.core.sampling.SamplingParams;
import io.batchgen.engine.backend.Backends;
import io.batchgen.engine.backend.WeightSettings;
import io.batchgen.engine.model.LoadedModel;
import io.batchgen.engine.model.ModelLoader;
import io.batchgen.engine.tokenizer.TextTokenizer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * Single-node generation without Spark: a loaded model, a compute backend and a
 * {@link SequenceRuntime}, behind one object. Submit token ids or text; results stream back as
 * sequences finish.
 *
 * <p>Lifecycle: {@link #open} loads the model and starts the runtime's scheduler thread;
 * {@link #close()} cancels unfinished sequences, stops the runtime, closes the backend and the
 * model. Thread-safe: any thread may submit and read metrics.
 */
public final class Engine implements AutoCloseable {
  private final LoadedModel model;
  private final ModuleExecutor executor;
  private final SequenceRuntime runtime;
  private final boolean ownsModel;

  private Engine(LoadedModel model, ModuleExecutor executor, RuntimeConfig config,
      boolean ownsModel) {
    this.model = model;
    this.executor = executor;
    this.ownsModel = ownsModel;
    this.runtime = new SequenceRuntime(executor, config, detokenizer(model));
  }

  /**
   * Loads the checkpoint at {@code modelPath} (HF directory or GGUF file) and starts a runtime on
   * backend {@code backend} ({@code reference}, {@code cpu} or {@code auto}).
   *
   * @throws IllegalArgumentException for an unknown backend or an invalid config
   */
  public static Engine open(Path modelPath, String backend, int threads, RuntimeConfig config) {
    return open(modelPath, backend, threads, config, WeightSettings.defaults());
  }

  /** As {@link #open(Path, String, int, RuntimeConfig)} with the weights held as {@code weights}. */
  public static Engine open(Path modelPath, String backend, int threads, RuntimeConfig config,
      WeightSettings weights) {
    LoadedModel model = ModelLoader.load(modelPath);
    try {
      return start(model, backend, threads, config, weights, true);
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
  }

  /**
   * Starts a runtime on a model its caller loaded and keeps: {@link #close()} leaves the model
   * open, so several engines (e.g. different backends or runtime settings) can share one copy
   * of the weights and tokenizer.
   */
  public static Engine start(LoadedModel model, String backend, int threads,
      RuntimeConfig config) {
    return start(model, backend, threads, config, WeightSettings.defaults(), false);
  }

  /** As {@link #start(LoadedModel, String, int, RuntimeConfig)} with the weights as {@code weights}. */
  public static Engine start(LoadedModel model, String backend, int threads,
      RuntimeConfig config, WeightSettings weights) {
    return start(model, backend, threads, config, weights, false);
  }

  private static Engine start(LoadedModel model, String backend, int threads,
      RuntimeConfig config, WeightSettings weights, boolean ownsModel) {
    ModuleExecutor executor = null;
    try {
      executor = Backends.create(backend, model, threads, weights);
      return new Engine(model, executor, config, ownsModel);
    } catch (RuntimeException e) {
      if (executor != null) {
        executor.close();
      }
      throw e;
    }
  }

  /** Stop strings are matched on text decoded by the model's tokenizer, opened on first use. */
  private static Detokenizer detokenizer(LoadedModel model) {
    return (tokens, offset, count) -> model.tokenizer()
        .decode(Arrays.copyOfRange(tokens, offset, offset + count));
  }

  public ModelShape shape() {
    return executor.shape();
  }

  public String describeBackend() {
    return executor.describe();
  }

  public SequenceRuntime runtime() {
    return runtime;
  }

  /** The loaded checkpoint (config, weights, tokenizer, embedded chat templates). */
  public LoadedModel model() {
    return model;
  }

  public TextTokenizer tokenizer() {
    return model.tokenizer();
  }

  /** Queues one request; {@code listener} gets its result on the runtime's thread. */
  public void submit(GenerationRequest request, ResultListener listener) {
    runtime.submit(request, listener);
  }

  /** Queues a text prompt (encoded with the model's tokenizer). */
  public void submitText(String id, String prompt, SamplingParams sampling,
      ResultListener listener) {
    runtime.submit(new GenerationRequest(id, tokenizer().encode(prompt), sampling), listener);
  }

  /** A bounded stream of results for one caller; see {@link ResultQueue}. */
  public ResultQueue newResultQueue(int capacity) {
    return runtime.newResultQueue(capacity);
  }

  /**
   * Runs every request, at most {@code maxInFlight} at a time, handing each result to
   * {@code onResult} (on the calling thread) as soon as it finishes; returns when all are done.
   * Memory stays bounded by {@code maxInFlight} whatever the number of requests.
   */
  public void generate(List<GenerationRequest> requests, int maxInFlight,
      Consumer<SequenceResult> onResult) throws InterruptedException {
    ResultQueue queue = runtime.newResultQueue(maxInFlight);
    AtomicReference<Throwable> submitFailure = new AtomicReference<>();
    Thread submitter = new Thread(() -> {
      try {
        for (GenerationRequest r : requests) {
          queue.submit(r);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (RuntimeException e) {
        submitFailure.set(e);
      }
    }, "batchgen-engine-submit");
    submitter.setDaemon(true);
    submitter.start();
    try {
      for (int done = 0; done < requests.size(); ) {
        SequenceResult r = queue.poll(Duration.ofMillis(200));
        if (r != null) {
          onResult.accept(r);
          done++;
        } else if (submitFailure.get() != null) {
          throw new IllegalStateException("Submitting requests failed: " + submitFailure.get(),
              submitFailure.get());
        }
      }
    } finally {
      submitter.interrupt();
      submitter.join();
    }
  }

  /** Convenience: generates completions for text prompts, returned in prompt order. */
  public List<String> complete(List<String> prompts, SamplingParams sampling)
      throws InterruptedException {
    List<GenerationRequest> requests = new ArrayList<>();
    for (int i = 0; i < prompts.size(); i++) {
      requests.add(new GenerationRequest(Integer.toString(i), tokenizer().encode(prompts.get(i)),
          sampling));
    }
    String[] out = new String[prompts.size()];
    generate(requests, 64, r -> out[Integer.parseInt(r.id())] = tokenizer().decode(r.tokens()));
    return Arrays.asList(out);
  }

  public RuntimeMetrics metrics() {
    return runtime.metrics();
  }

  /** What the backend's weight store brought in so far (bytes read, time, loads, hits). */
  public io.batchgen.core.model.WeightTraffic weightTraffic() {
    return executor.weightTraffic();
  }

  @Override
  public void close() {
    try {
      runtime.close();
    } finally {
      try {
        executor.close();
      } finally {
        if (ownsModel) {
          model.close();
        }
      }
    }
  }
}
