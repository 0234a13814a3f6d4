package io.batchgen.engine.backend.cuda;

import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDeviceTotalMem;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuInit;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.JCudaDriver;

/**
 * Whether this JVM can run the cuda backend, and on which devices: found once per JVM (the
 * driver library either loads or it does not; devices do not come and go under a running JVM)
 * and kept, so {@code auto} never probes twice.
 *
 * @param available whether at least one usable device was found
 * @param reason    why not, in words a user can act on; or a one-line summary of the devices
 * @param devices   the devices found (empty when unavailable)
 * @param driver    the CUDA driver version as the driver reports it (e.g. 13000), or 0
 */
public record CudaProbe(boolean available, String reason, List<Device> devices, int driver) {

  /**
   * One GPU.
   *
   * @param ordinal     the driver's device ordinal
   * @param name        the device's name, e.g. {@code NVIDIA H200}
   * @param major       compute capability, major
   * @param minor       compute capability, minor
   * @param memoryBytes total device memory
   */
  public record Device(int ordinal, String name, int major, int minor, long memoryBytes) {
    /** Whether the kernels can run here (compute capability 8.0 or newer). */
    public boolean supported() {
      return major >= 8;
    }

    @Override
    public String toString() {
      return "cuda:" + ordinal + " " + name + " (sm_" + major + minor + ", " + (memoryBytes >> 30)
          + " GiB)";
    }
  }

  public CudaProbe {
    devices = List.copyOf(devices);
  }

  /** The answer for this JVM, probing on the first call. */
  public static CudaProbe get() {
    return Holder.RESULT;
  }

  private static final class Holder {
    static final CudaProbe RESULT = run(CudaProbe::queryDriver);
  }

  /**
   * Runs {@code query} (which talks to the driver) and turns every way it can fail into an
   * unavailable answer with its reason: no driver library, a driver that refuses, no devices,
   * only devices too old for the kernels.
   */
  static CudaProbe run(Supplier<CudaProbe> query) {
    CudaProbe found;
    try {
      found = query.get();
    } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
      return unavailable("no CUDA driver could be loaded (" + linkFailure(e) + ")");
    } catch (RuntimeException e) {
      return unavailable("the CUDA driver failed to initialise (" + firstLine(e) + ")");
    }
    if (!found.available()) {
      return found;
    }
    List<Device> usable = new ArrayList<>();
    for (Device d : found.devices()) {
      if (d.supported()) {
        usable.add(d);
      }
    }
    if (usable.isEmpty()) {
      return unavailable("no GPU of compute capability 8.0 or newer (found "
          + found.devices() + ")");
    }
    return new CudaProbe(true, usable.size() + " GPU(s): " + usable + ", driver "
        + found.driver(), usable, found.driver());
  }

  static CudaProbe unavailable(String reason) {
    return new CudaProbe(false, reason, List.of(), 0);
  }

  /**
   * The line of a native-library failure that names what is missing: JCuda's message first
   * names its own library, and further down the system's reason ({@code libcuda.so.1: cannot
   * open shared object file}).
   */
  static String linkFailure(Throwable e) {
    String m = e.getMessage() == null ? "" : e.getMessage();
    for (String line : m.split("\n")) {
      int at = line.indexOf("cannot open shared object file");
      if (at >= 0) {
        int so = line.lastIndexOf(".so: ", at);
        return (so >= 0 ? line.substring(so + 5) : line).trim();
      }
    }
    return firstLine(e);
  }

  private static String firstLine(Throwable e) {
    String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }

  /** The device with driver ordinal {@code ordinal}, if this probe found it usable. */
  public Device device(int ordinal) {
    for (Device d : devices) {
      if (d.ordinal() == ordinal) {
        return d;
      }
    }
    throw new IllegalArgumentException("No usable CUDA device " + ordinal + ": " + reason
        + (devices.isEmpty() ? "" : "; usable: " + devices));
  }

  private static CudaProbe queryDriver() {
    JCudaDriver.setExceptionsEnabled(true);
    cuInit(0);
    int[] count = new int[1];
    cuDeviceGetCount(count);
    int[] version = new int[1];
    cuDriverGetVersion(version);
    if (count[0] == 0) {
      return unavailable("the CUDA driver (" + version[0] + ") sees no GPU");
    }
    List<Device> devices = new ArrayList<>();
    for (int i = 0; i < count[0]; i++) {
      CUdevice dev = new CUdevice();
      cuDeviceGet(dev, i);
      byte[] name = new byte[256];
      cuDeviceGetName(name, name.length, dev);
      int len = 0;
      while (len < name.length && name[len] != 0) {
        len++;
      }
      int[] major = new int[1];
      int[] minor = new int[1];
      cuDeviceGetAttribute(major, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
          dev);
      cuDeviceGetAttribute(minor, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
          dev);
      long[] mem = new long[1];
      cuDeviceTotalMem(mem, dev);
      devices.add(new Device(i, new String(name, 0, len, StandardCharsets.UTF_8), major[0],
          minor[0], mem[0]));
    }
    return new CudaProbe(true, devices.toString(), devices, version[0]);
  }
}
