package io.batchgen.spark.testing;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The local file system with injected rename failures, installed for a test session with
 * {@code spark.hadoop.fs.file.impl} (and the cache disabled): the {@link #failRename}-th rename
 * whose source or target path contains {@link #scope} throws, as a crash of the committing
 * driver at that point would stop the commit.
 */
public final class FaultyLocalFileSystem extends LocalFileSystem {
  private static final AtomicInteger RENAMES = new AtomicInteger();
  private static volatile String scope = "\0";
  private static volatile int failRename = Integer.MAX_VALUE;

  /** From now, the {@code n}-th rename touching a path that contains {@code pathPart} fails. */
  public static void failRename(String pathPart, int n) {
    RENAMES.set(0);
    scope = pathPart;
    failRename = n;
  }

  /** Renames seen within the scope since {@link #failRename}. */
  public static int renames() {
    return RENAMES.get();
  }

  public static void reset() {
    failRename("\0", Integer.MAX_VALUE);
  }

  @Override
  public boolean rename(Path src, Path dst) throws IOException {
    if ((src.toString().contains(scope) || dst.toString().contains(scope))
        && RENAMES.incrementAndGet() == failRename) {
      throw new IOException("injected failure renaming " + src + " to " + dst);
    }
    return super.rename(src, dst);
  }
}
