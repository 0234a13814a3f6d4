package io.batchgen.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * An OpenAI batch input dataset (JSON Lines, one request a line; see {@link OpenAiBatchReader}):
 * one file, a folder (searched recursively, skipping names that start with {@code _} or
 * {@code .}) or a glob, on any Hadoop file system.
 *
 * <p>For planning: {@link #scan} reads a file once, without parsing the requests, and gives the
 * byte offset of every line (so any range of lines can be read from its first byte) and each
 * line's {@code custom_id} (so repeated ids are found before the read). {@link #openReader} then
 * reads a range of lines with the one reader of the format.
 */
public final class OpenAiBatchDataset {
  private static final JsonFactory JSON = new JsonFactory();

  private final Configuration conf;
  private final List<Path> files;

  private OpenAiBatchDataset(Configuration conf, List<Path> files) {
    this.conf = conf;
    this.files = files;
  }

  /**
   * Resolves {@code location} to its files, sorted by path.
   *
   * @throws IllegalArgumentException when nothing matches
   */
  public static OpenAiBatchDataset open(String location, Configuration conf) {
    return new OpenAiBatchDataset(conf, PromptDataset.dataFiles(location, conf,
        "OpenAI batch (JSONL)"));
  }

  /** The files, sorted. */
  public List<Path> files() {
    return files;
  }

  /** Receives each non-blank line's custom_id from {@link #scan}. */
  @FunctionalInterface
  public interface IdVisitor {
    /**
     * @param line     0-based line index
     * @param customId the line's top-level string {@code custom_id}; null when the line has none
     *                 or is not JSON (the reader reports such lines)
     */
    void accept(long line, String customId);
  }

  /**
   * Reads {@code file} once: the byte offset where each line starts, the file's length last (so
   * line {@code i} spans {@code [offsets[i], offsets[i + 1])}), and each non-blank line's
   * custom_id to {@code ids}.
   */
  public long[] scan(Path file, IdVisitor ids) {
    long[] offsets = new long[1024];
    int lines = 0;
    long pos = 0;
    try (InputStream in = new BufferedInputStream(file.getFileSystem(conf).open(file), 1 << 16)) {
      ByteArrayOutputStream line = new ByteArrayOutputStream(256);
      int b;
      while (true) {
        b = in.read();
        if (b == -1 && line.size() == 0) {
          break;
        }
        if (b == '\n' || b == -1) {
          if (lines + 1 >= offsets.length) {
            offsets = Arrays.copyOf(offsets, offsets.length * 2);
          }
          offsets[lines] = pos - line.size();
          byte[] bytes = line.toByteArray();
          if (!blank(bytes)) {
            ids.accept(lines, customId(bytes));
          }
          lines++;
          line.reset();
          if (b == -1) {
            break;
          }
          pos++;
          continue;
        }
        line.write(b);
        pos++;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read OpenAI batch input [" + file + "]: "
          + e.getMessage(), e);
    }
    offsets[lines] = pos;
    return Arrays.copyOf(offsets, lines + 1);
  }

  private static boolean blank(byte[] bytes) {
    for (byte b : bytes) {
      if (b != ' ' && b != '\t' && b != '\r') {
        return false;
      }
    }
    return true;
  }

  /** The top-level string custom_id of one line, or null; reads no further than it. */
  static String customId(byte[] line) {
    try (JsonParser p = JSON.createParser(line)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return null;
      }
      for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
        String name = p.currentName();
        JsonToken value = p.nextToken();
        if (OpenAiBatchReader.CUSTOM_ID.equals(name)) {
          return value == JsonToken.VALUE_STRING ? p.getText() : null;
        }
        p.skipChildren();
      }
      return null;
    } catch (IOException e) {
      return null; // not JSON: the reader names the line and the fix
    }
  }

  /**
   * A reader of {@code file} from byte {@code byteOffset}, where line {@code firstLine} starts
   * (an offset from {@link #scan}); the caller stops it at its last line
   * ({@link OpenAiBatchReader#next(int, long)}) and closes the stream it returns.
   */
  public Opened openReader(Path file, long byteOffset, long firstLine, BadRowPolicy policy) {
    try {
      FSDataInputStream in = file.getFileSystem(conf).open(file);
      try {
        in.seek(byteOffset);
      } catch (IOException | RuntimeException e) {
        in.close();
        throw e;
      }
      // Repeated ids are found over the whole dataset before the read (scan).
      return new Opened(in, new OpenAiBatchReader(in, file.toString(), policy, firstLine,
          false));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read OpenAI batch input [" + file + "]: "
          + e.getMessage(), e);
    }
  }

  /** A reader and the stream under it, which {@link #close} closes. */
  public record Opened(InputStream stream, OpenAiBatchReader reader) implements AutoCloseable {
    @Override
    public void close() {
      try {
        stream.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
