package io.batchgen.engine.backend.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemGetInfo;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;

/**
 * One executor runtime's hold on one GPU: the device's primary context (shared by every runtime
 * of the JVM on that device, as the driver recommends), this runtime's compute stream, the kernel
 * modules, and every device allocation the runtime made, freed together on {@link #close()}.
 *
 * <p>Copies between Java arrays and the device are synchronous and go through the legacy default
 * stream, which orders them with the (blocking) compute stream: a module call's uploads, launches
 * and downloads run in program order without explicit events.
 *
 * <p>Called from the runtime thread; every entry point makes the context current first, so any
 * thread may call as long as calls do not overlap.
 */
final class CudaDevice implements AutoCloseable {
  private final CudaProbe.Device info;
  private final CUdevice device = new CUdevice();
  private final CUcontext context = new CUcontext();
  private final CUstream compute = new CUstream();
  private final List<CUmodule> modules = new ArrayList<>();
  private final Map<Kernel, CUfunction> functions = new EnumMap<>(Kernel.class);
  private final List<CUdeviceptr> allocations = new ArrayList<>();
  private final Map<Object, CUdeviceptr> scratch = new HashMap<>();
  private final Map<Object, Long> scratchBytes = new HashMap<>();
  private long allocated;
  private boolean closed;

  /**
   * Binds to device {@code info}, loads the kernels built for its architecture.
   *
   * @throws IllegalStateException naming the device and the driver's error when that fails
   */
  CudaDevice(CudaProbe.Device info, KernelImages images) {
    this.info = info;
    JCudaDriver.setExceptionsEnabled(true);
    try {
      cuDeviceGet(device, info.ordinal());
      cuDevicePrimaryCtxRetain(context, device);
      cuCtxSetCurrent(context);
      cuStreamCreate(compute, CUstream_flags.CU_STREAM_DEFAULT);
      Map<String, CUmodule> byFile = new HashMap<>();
      for (Kernel k : Kernel.values()) {
        CUmodule m = byFile.get(k.file());
        if (m == null) {
          m = new CUmodule();
          cuModuleLoadData(m, images.image(k.file(), info.major(), info.minor()));
          modules.add(m);
          byFile.put(k.file(), m);
        }
        CUfunction f = new CUfunction();
        cuModuleGetFunction(f, m, k.symbol());
        functions.put(k, f);
      }
    } catch (CudaException e) {
      close();
      throw new IllegalStateException("Could not start the cuda backend on " + info + ": "
          + e.getMessage(), e);
    }
  }

  CudaProbe.Device info() {
    return info;
  }

  /** Makes this device's context current on the calling thread. */
  void enter() {
    if (closed) {
      throw new IllegalStateException("The cuda backend on " + info + " is closed");
    }
    cuCtxSetCurrent(context);
  }

  /** Bytes this runtime holds on the device. */
  long allocatedBytes() {
    return allocated;
  }

  /**
   * A device allocation that lives until {@link #close()}.
   *
   * @throws IllegalStateException when the device is out of memory, with the sizes
   */
  CUdeviceptr alloc(long bytes, String what) {
    enter();
    CUdeviceptr p = new CUdeviceptr();
    try {
      cuMemAlloc(p, Math.max(bytes, 4));
    } catch (CudaException e) {
      long[] free = new long[1];
      long[] total = new long[1];
      cuMemGetInfo(free, total);
      throw new IllegalStateException("Out of GPU memory on " + info + ": " + what + " needs "
          + (bytes >> 20) + " MiB, " + (free[0] >> 20) + " MiB free of " + (total[0] >> 20)
          + " (this runtime holds " + (allocated >> 20) + " MiB). Lower the KV cache budget"
          + " (spark.batchgen.engine.kvCacheBytes) or use a smaller model.", e);
    }
    allocations.add(p);
    allocated += Math.max(bytes, 4);
    return p;
  }

  /** Frees an allocation of {@link #alloc} before {@link #close()}. */
  void free(CUdeviceptr p, long bytes) {
    if (!closed && allocations.remove(p)) {
      enter();
      cuMemFree(p);
      allocated -= Math.max(bytes, 4);
    }
  }

  /** Zeroes {@code bytes} bytes at {@code p}. */
  void zero(CUdeviceptr p, long bytes) {
    jcuda.driver.JCudaDriver.cuMemsetD8(p, (byte) 0, bytes);
  }

  /**
   * A grow-only scratch buffer for {@code role} of at least {@code bytes}: the memory pool of
   * the per-call buffers, so steady-state module calls allocate nothing.
   */
  CUdeviceptr scratch(Object role, long bytes) {
    Long have = scratchBytes.get(role);
    if (have != null && have >= bytes) {
      return scratch.get(role);
    }
    long size = Math.max(bytes, have == null ? 0 : have + have / 2);
    CUdeviceptr old = scratch.remove(role);
    if (old != null) {
      allocations.remove(old);
      allocated -= have;
      cuMemFree(old);
    }
    CUdeviceptr p = alloc(size, "scratch " + role);
    scratch.put(role, p);
    scratchBytes.put(role, size);
    return p;
  }

  void upload(CUdeviceptr dst, float[] src, int from, int count) {
    if (count > 0) {
      cuMemcpyHtoD(dst, Pointer.to(src).withByteOffset(4L * from), 4L * count);
    }
  }

  void upload(CUdeviceptr dst, int[] src, int count) {
    if (count > 0) {
      cuMemcpyHtoD(dst, Pointer.to(src), 4L * count);
    }
  }

  void upload(CUdeviceptr dst, long[] src) {
    cuMemcpyHtoD(dst, Pointer.to(src), 8L * src.length);
  }

  /** Copies {@code src}'s remaining bytes to the device (a heap buffer through a direct copy). */
  void upload(CUdeviceptr dst, ByteBuffer src) {
    ByteBuffer direct = src.slice();
    if (!direct.isDirect()) {
      direct = ByteBuffer.allocateDirect(src.remaining()).put(src.duplicate()).flip();
    }
    cuMemcpyHtoD(dst, Pointer.to(direct), direct.remaining());
  }

  void download(float[] dst, int from, CUdeviceptr src, int count) {
    if (count > 0) {
      cuMemcpyDtoH(Pointer.to(dst).withByteOffset(4L * from), src, 4L * count);
    }
  }

  void download(int[] dst, CUdeviceptr src, int count) {
    if (count > 0) {
      cuMemcpyDtoH(Pointer.to(dst), src, 4L * count);
    }
  }

  /** Waits for everything queued on the compute stream. */
  void sync() {
    cuStreamSynchronize(compute);
  }

  /**
   * Milliseconds per run of {@code work} (which queues launches on the compute stream), timed
   * with CUDA events over {@code runs} runs after {@code warmups} untimed ones.
   */
  float timeMillis(Runnable work, int warmups, int runs) {
    enter();
    for (int i = 0; i < warmups; i++) {
      work.run();
    }
    jcuda.driver.CUevent start = new jcuda.driver.CUevent();
    jcuda.driver.CUevent end = new jcuda.driver.CUevent();
    JCudaDriver.cuEventCreate(start, jcuda.driver.CUevent_flags.CU_EVENT_DEFAULT);
    JCudaDriver.cuEventCreate(end, jcuda.driver.CUevent_flags.CU_EVENT_DEFAULT);
    try {
      JCudaDriver.cuEventRecord(start, compute);
      for (int i = 0; i < runs; i++) {
        work.run();
      }
      JCudaDriver.cuEventRecord(end, compute);
      JCudaDriver.cuEventSynchronize(end);
      float[] ms = new float[1];
      JCudaDriver.cuEventElapsedTime(ms, start, end);
      return ms[0] / runs;
    } finally {
      JCudaDriver.cuEventDestroy(start);
      JCudaDriver.cuEventDestroy(end);
    }
  }

  /** Launches {@code k} on the compute stream. */
  void launch(Kernel k, int gridX, int gridY, Args args) {
    if (gridX <= 0 || gridY <= 0) {
      return;
    }
    cuLaunchKernel(functions.get(k), gridX, gridY, 1, Kernel.THREADS, 1, 1, 0, compute,
        args.pointer(), null);
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      cuCtxSetCurrent(context);
      for (CUdeviceptr p : allocations) {
        cuMemFree(p);
      }
      for (CUmodule m : modules) {
        cuModuleUnload(m);
      }
      cuStreamDestroy(compute);
    } catch (CudaException | UnsatisfiedLinkError e) {
      // The context may never have been made; the primary context's release frees the rest.
    } finally {
      allocations.clear();
      try {
        cuDevicePrimaryCtxRelease(device);
      } catch (CudaException | UnsatisfiedLinkError e) {
        // not retained
      }
    }
  }

  /** Kernel arguments in declaration order, as {@code cuLaunchKernel} takes them. */
  static final class Args {
    private final List<Pointer> list = new ArrayList<>();

    Args ptr(CUdeviceptr p) {
      list.add(p == null ? Pointer.to(new long[] {0}) : Pointer.to(p));
      return this;
    }

    Args i32(int v) {
      list.add(Pointer.to(new int[] {v}));
      return this;
    }

    Args i64(long v) {
      list.add(Pointer.to(new long[] {v}));
      return this;
    }

    Args f32(float v) {
      list.add(Pointer.to(new float[] {v}));
      return this;
    }

    int size() {
      return list.size();
    }

    Pointer pointer() {
      return Pointer.to(list.toArray(new Pointer[0]));
    }
  }
}
