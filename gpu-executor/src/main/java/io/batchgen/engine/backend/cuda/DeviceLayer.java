package io.batchgen.engine.backend.cuda;

import io.batchgen.engine.model.ExpertWeights;
import io.batchgen.engine.model.LayerWeights;
import io.batchgen.engine.model.WeightTensor;
import java.util.ArrayList;
import java.util.List;
import jcuda.driver.CUdeviceptr;

/**
 * One layer's weights on the device: every matrix as a {@link Projection} (the pointer arrays
 * the grouped GEMM indexes by group), the norms and biases as fp32 vectors. Null where the
 * architecture has no such weight.
 */
record DeviceLayer(Projection q, Projection k, Projection v, Projection o, Projection router,
    Projection gate, Projection up, Projection down, Projection sharedGateProj,
    Projection sharedUp, Projection sharedDown, CUdeviceptr sharedGate, CUdeviceptr attnNorm,
    CUdeviceptr ffnNorm, CUdeviceptr qNorm, CUdeviceptr kNorm, CUdeviceptr bq, CUdeviceptr bk,
    CUdeviceptr bv) {

  /**
   * Matrices of one shape {@code (n, k)} multiplied by one grouped launch, stored one after
   * another as {@link Bf16Planes}: group g's hi plane at {@code hi + g * n * k} bf16 values, its
   * lo plane likewise at {@code lo} (null when no matrix of the set needs one; a matrix that is
   * exact in bf16 then gets zeros).
   */
  record Projection(int n, int k, int groups, CUdeviceptr hi, CUdeviceptr lo) {

    /** Uploads {@code ws}, all of one shape. */
    static Projection upload(CudaDevice device, List<WeightTensor> ws) {
      WeightTensor first = ws.get(0);
      List<Bf16Planes> planes = new ArrayList<>(ws.size());
      boolean anyLo = false;
      for (WeightTensor w : ws) {
        if (w.rows() != first.rows() || w.cols() != first.cols()) {
          throw new IllegalArgumentException("Grouped weights differ in shape: " + w + " vs "
              + first);
        }
        Bf16Planes p = Bf16Planes.of(w);
        anyLo |= p.lo() != null;
        planes.add(p);
      }
      long plane = 2L * first.rows() * first.cols();
      String what = first.name() + (ws.size() > 1 ? " and " + (ws.size() - 1) + " more" : "");
      CUdeviceptr hi = device.alloc(plane * ws.size(), what);
      CUdeviceptr lo = anyLo ? device.alloc(plane * ws.size(), what + " (lo)") : null;
      for (int g = 0; g < planes.size(); g++) {
        device.upload(hi.withByteOffset(g * plane), planes.get(g).hi());
        if (lo != null && planes.get(g).lo() != null) {
          device.upload(lo.withByteOffset(g * plane), planes.get(g).lo());
        } else if (lo != null) {
          device.zero(lo.withByteOffset(g * plane), plane);
        }
      }
      return new Projection(first.rows(), first.cols(), ws.size(), hi, lo);
    }

    static Projection upload(CudaDevice device, WeightTensor w) {
      return w == null ? null : upload(device, List.of(w));
    }
  }

  static DeviceLayer upload(CudaDevice device, LayerWeights lw) {
    List<WeightTensor> gates = new ArrayList<>();
    List<WeightTensor> ups = new ArrayList<>();
    List<WeightTensor> downs = new ArrayList<>();
    for (ExpertWeights e : lw.experts()) {
      gates.add(e.gate());
      ups.add(e.up());
      downs.add(e.down());
    }
    ExpertWeights s = lw.shared();
    return new DeviceLayer(Projection.upload(device, lw.wq()), Projection.upload(device, lw.wk()),
        Projection.upload(device, lw.wv()), Projection.upload(device, lw.wo()),
        Projection.upload(device, lw.router()), Projection.upload(device, gates),
        Projection.upload(device, ups), Projection.upload(device, downs),
        s == null ? null : Projection.upload(device, s.gate()),
        s == null ? null : Projection.upload(device, s.up()),
        s == null ? null : Projection.upload(device, s.down()),
        vector(device, lw.sharedGate()), vector(device, lw.attnNorm()),
        vector(device, lw.ffnNorm()), vector(device, lw.qNorm()), vector(device, lw.kNorm()),
        vector(device, lw.bq()), vector(device, lw.bk()), vector(device, lw.bv()));
  }

  /** An fp32 vector on the device, or null for a null vector. */
  static CUdeviceptr vector(CudaDevice device, float[] v) {
    if (v == null) {
      return null;
    }
    CUdeviceptr p = device.alloc(4L * v.length, "vector");
    device.upload(p, v, 0, v.length);
    return p;
  }
}
