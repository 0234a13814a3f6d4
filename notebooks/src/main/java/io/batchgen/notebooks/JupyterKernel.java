package io.batchgen.notebooks;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.logging.LogManager;
import org.rapaio.jupyter.kernel.MainApp;
import org.rapaio.jupyter.kernel.channels.Channels;
import org.rapaio.jupyter.kernel.core.ConnectionProperties;
import org.rapaio.jupyter.kernel.core.Transform;

/**
 * Starts rapaio-jupyter-kernel as its own {@code MainApp} does, around one race in it: its
 * channels start reading messages before their handler map exists, and a request that arrives in
 * that window (Jupyter's client sends {@code kernel_info_request} as soon as it starts the kernel;
 * on a loaded machine it often lands there) kills the shell thread with a NullPointerException,
 * after which the kernel never answers. Seen with 3.0.1; 3.0.4's {@code Channels.connect} is
 * unchanged. Here the map is set, empty, before the channels bind: such a request is only logged
 * as unhandled, and the client, which repeats it until answered, gets its answer a moment later.
 *
 * <p>Usage (what {@code notebooks/install-kernel.sh} writes into kernel.json):
 * {@code java FLAGS -cp rapaio-jupyter-kernel.jar:notebooks/target/classes
 * io.batchgen.notebooks.JupyterKernel CONNECTION_FILE}.
 */
public final class JupyterKernel {
  private JupyterKernel() {
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      throw new IllegalArgumentException("Usage: JupyterKernel CONNECTION_FILE (Jupyter passes"
          + " {connection_file})");
    }
    try (InputStream logging = MainApp.class.getClassLoader()
        .getResourceAsStream("logging.properties")) {
      if (logging != null) {
        LogManager.getLogManager().readConfiguration(logging);
      }
    }
    Path file = Path.of(args[0]);
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("Connection file [" + file + "] is not a file");
    }
    ConnectionProperties connection = Transform.fromJson(
        Files.readString(file, StandardCharsets.UTF_8), ConnectionProperties.class);
    Channels channels = new Channels(connection);
    seedHandlers(channels);
    channels.connect(MainApp.kernel); // MainApp.kernel: built (classpath parsed) before binding
    channels.joinUntilClose();
  }

  /** An empty handler map until {@code connect} puts the real one in. */
  private static void seedHandlers(Channels channels) throws IOException {
    try {
      Field handlers = Channels.class.getDeclaredField("handlers");
      handlers.setAccessible(true);
      if (handlers.get(channels) == null) {
        handlers.set(channels, new HashMap<>());
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      // Another kernel version: start it as it is (the race may then bite, as it does there).
      System.err.println("JupyterKernel: cannot pre-set the kernel's message handlers (" + e
          + "); starting it unchanged");
    }
  }
}
