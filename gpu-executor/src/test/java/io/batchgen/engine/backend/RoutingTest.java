package io.batchgen.engine.backend;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.core.model.AttentionBatch;
import io.batchgen.core.model.KvStore;
import io.batchgen.core.model.ModuleExecutor;
import io.batchgen.engine.format.TensorInfo;
import io.batchgen.engine.format.TensorSource;
import io.batchgen.engine.format.safetensors.SafetensorsFile;
import io.batchgen.engine.format.safetensors.SafetensorsWriter;
import io.batchgen.engine.forward.SimpleForward;
import io.batchgen.engine.model.LoadedModel;
import io.batchgen.engine.model.ModelLoader;
import io.batchgen.engine.model.TinyModels;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The routing contract on both backends: top-k ordered by descending weight, exact ties broken
 * by the lower expert id, weights renormalised only where the architecture says. Experts 1 and 5
 * of layer 0 get identical router rows, so their probabilities tie exactly.
 */
class RoutingTest {
  @TempDir
  Path tmp;

  /** Copies {@code src}'s weights with router row 5 of layer 0 replaced by row 1. */
  Path withTiedExperts(String arch) throws IOException {
    Path src = TinyModels.write("tiny", arch, "f32", 8, tmp.resolve("src"));
    Path dst = tmp.resolve("tied");
    Files.createDirectories(dst);
    try (var files = Files.list(src)) {
      for (Path p : files.toList()) {
        if (!p.getFileName().toString().endsWith(".safetensors")) {
          Files.copy(p, dst.resolve(p.getFileName()));
        }
      }
    }
    String router = arch.equals("mixtral") ? "model.layers.0.block_sparse_moe.gate.weight"
        : "model.layers.0.mlp.gate.weight";
    SafetensorsFile in = SafetensorsFile.open(src.resolve("model.safetensors"));
    SafetensorsWriter out = new SafetensorsWriter();
    for (TensorInfo t : in.tensors().values()) {
      ByteBuffer data = t.data().duplicate();
      byte[] bytes = new byte[data.remaining()];
      data.get(bytes);
      if (t.name().equals(router)) {
        int rowBytes = (int) t.shape()[1] * 4;
        System.arraycopy(bytes, rowBytes, bytes, 5 * rowBytes, rowBytes);
      }
      out.add(t.name(), t.dtype(), t.shape(), new TensorSource() {
        @Override
        public long bytes() {
          return bytes.length;
        }

        @Override
        public void write(OutputStream os) throws IOException {
          os.write(bytes);
        }
      });
    }
    out.write(dst.resolve("model.safetensors"), Map.of());
    return dst;
  }

  @ParameterizedTest
  @ValueSource(strings = {"mixtral", "qwen2_moe", "olmoe"})
  void topKIsOrderedWithTiesToTheLowerId(String arch) throws IOException {
    try (LoadedModel m = ModelLoader.load(withTiedExperts(arch))) {
      for (String backend : new String[] {"reference", "cpu"}) {
        try (ModuleExecutor ex = Backends.create(backend, m, 2);
            KvStore kv = ex.createKvStore(16, 16)) {
          int rows = 200;
          int h = m.config().hiddenSize();
          int k = m.config().topK();
          int[] tokens = new SplittableRandom(1).ints(rows, 0, m.config().vocabSize()).toArray();
          AttentionBatch b = new AttentionBatch();
          SimpleForward.reserveSegments(b, 1, kv);
          b.reset(0, rows, h, k, kv);
          b.addSegment(0, rows, 0, new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
          ex.embed(tokens, 0, rows, b.hidden(), 0);
          ex.attention(b);
          int fives = 0;
          for (int r = 0; r < rows; r++) {
            float sum = 0;
            boolean hasOne = false;
            for (int j = 0; j < k; j++) {
              int e = b.topExperts()[r * k + j];
              float w = b.topWeights()[r * k + j];
              sum += w;
              hasOne |= e == 1;
              if (j + 1 < k) {
                float next = b.topWeights()[r * k + j + 1];
                assertThat(w > next || (w == next && e < b.topExperts()[r * k + j + 1]))
                    .as(backend + " row " + r + " rank " + j).isTrue();
              }
              if (e == 5) {
                fives++;
                assertThat(hasOne).as(backend + " row " + r + ": expert 5 ties with 1 and must"
                    + " come after it").isTrue();
                assertThat(b.topExperts()[r * k + j - 1]).isEqualTo(1);
              }
            }
            if (m.config().normTopkProb()) {
              assertThat(sum).isCloseTo(1f, org.assertj.core.data.Offset.offset(1e-5f));
            } else {
              assertThat(sum).isLessThan(1f);
            }
          }
          assertThat(fives).as("rows routed to the tied expert 5").isGreaterThan(0);
        }
      }
    }
  }
}
