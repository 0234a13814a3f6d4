package io.batchgen.spark.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * A cheap content hash of a model for provenance: SHA-256 over every file's name and size and
 * its first 1 MiB (which holds the config, the safetensors/GGUF headers with every tensor's name,
 * shape and offset, and the start of the weights). Reading whole checkpoints would take minutes
 * for real models; this takes milliseconds and changes whenever the model does in practice.
 */
public final class ModelFingerprint {
  private static final int PREFIX_BYTES = 1 << 20;

  private ModelFingerprint() {
  }

  /** Hex SHA-256 of the model at {@code path} (a directory or a single file). */
  public static String of(Path path) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      List<Path> files;
      if (Files.isDirectory(path)) {
        try (Stream<Path> s = Files.list(path)) {
          files = s.filter(Files::isRegularFile).sorted().toList();
        }
      } else {
        files = List.of(path);
      }
      byte[] buf = new byte[64 * 1024];
      for (Path f : files) {
        sha.update(f.getFileName().toString().getBytes(StandardCharsets.UTF_8));
        sha.update(Long.toString(Files.size(f)).getBytes(StandardCharsets.UTF_8));
        try (InputStream in = Files.newInputStream(f)) {
          int remaining = PREFIX_BYTES;
          int n;
          while (remaining > 0 && (n = in.read(buf, 0, Math.min(buf.length, remaining))) > 0) {
            sha.update(buf, 0, n);
            remaining -= n;
          }
        }
      }
      return HexFormat.of().formatHex(sha.digest());
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read model at [" + path + "] to fingerprint it: "
          + e.getMessage(), e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
