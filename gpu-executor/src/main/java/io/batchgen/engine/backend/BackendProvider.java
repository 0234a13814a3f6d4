package io.batchgen.engine.backend;

import io.batchgen.core.model.ModuleExecutor;
import io.batchgen.engine.model.LoadedModel;

/**
 * A compute backend that is not built in, found with {@link java.util.ServiceLoader} (a
 * {@code META-INF/services/io.batchgen.engine.backend.BackendProvider} entry on the classpath)
 * and chosen by its {@link #name()} wherever a backend name is accepted (option {@code backend},
 * {@code --backend}).
 *
 * <p>Lifecycle: {@link Backends#create} calls {@link #create} once per runtime, on the thread
 * that starts the runtime; the returned executor then follows the {@link ModuleExecutor}
 * contract (one scheduler thread calls it; its owner closes it). A throw from {@link #create}
 * fails the runtime's start with that exception.
 */
public interface BackendProvider {

  /** The name users select it by: lower case, not one of the built-in names. */
  String name();

  /** A new executor for {@code model} with {@code threads} worker threads (a hint). */
  ModuleExecutor create(LoadedModel model, int threads);
}
