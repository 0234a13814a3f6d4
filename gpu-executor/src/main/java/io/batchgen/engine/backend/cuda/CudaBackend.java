package io.batchgen.engine.backend.cuda;

import io.batchgen.core.model.ModuleExecutor;
import io.batchgen.engine.model.LoadedModel;

/**
 * The entry point of the {@code cuda} backend for {@link io.batchgen.engine.backend.Backends}:
 * whether it can run here, and an executor on one GPU.
 */
public final class CudaBackend {
  private CudaBackend() {
  }

  /** Whether this JVM can run the backend (probed once per JVM). */
  public static CudaProbe probe() {
    return CudaProbe.get();
  }

  /**
   * An executor for {@code model} on the GPU with driver ordinal {@code device}: its own stream,
   * memory and copy of the weights, in the device's primary context.
   *
   * @throws IllegalStateException when no usable GPU is there (with the probe's reason), or the
   *     weights do not fit
   * @throws IllegalArgumentException when {@code device} is not a usable device, or the model has
   *     a shape the kernels do not support
   */
  public static ModuleExecutor create(LoadedModel model, int device) {
    CudaProbe p = probe();
    if (!p.available()) {
      throw new IllegalStateException("Backend cuda is not available: " + p.reason()
          + ". Use backend cpu (or auto, which falls back to it).");
    }
    return new CudaExecutor(model, p.device(device));
  }
}
