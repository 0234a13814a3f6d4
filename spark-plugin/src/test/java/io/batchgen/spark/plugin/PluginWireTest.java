package io.batchgen.spark.plugin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.batchgen.spark.plugin.PluginMessages.LoadReport;
import io.batchgen.spark.plugin.PluginMessages.Message;
import io.batchgen.spark.plugin.PluginMessages.Ping;
import io.batchgen.spark.plugin.PluginMessages.Pong;
import io.batchgen.spark.plugin.PluginMessages.Register;
import io.batchgen.spark.plugin.PluginMessages.StartFailed;
import io.batchgen.spark.plugin.PluginMessages.Welcome;
import io.batchgen.spark.plugin.PluginWire.PluginProtocolException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamClass;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import io.batchgen.core.progress.RowSample;
import io.batchgen.core.progress.TaskCounts;
import io.batchgen.core.rebalance.Move;
import io.batchgen.core.runtime.FinishReason;
import io.batchgen.core.runtime.SchedulingMode;
import io.batchgen.spark.plugin.PluginMessages.Ack;
import io.batchgen.spark.plugin.PluginMessages.FetchChunk;
import io.batchgen.spark.plugin.PluginMessages.MigrateIn;
import io.batchgen.spark.plugin.PluginMessages.MigrateOut;
import io.batchgen.spark.plugin.PluginMessages.MigratedResult;
import io.batchgen.spark.plugin.PluginMessages.MigrationCounts;
import io.batchgen.spark.plugin.PluginMessages.MoveDone;
import io.batchgen.spark.plugin.PluginMessages.Orders;
import io.batchgen.spark.plugin.PluginMessages.RuntimeLoad;
import io.batchgen.spark.plugin.PluginMessages.StateChunk;
import io.batchgen.spark.plugin.PluginMessages.TaskProgress;
import io.batchgen.spark.plugin.PluginMessages.TaskReport;
import io.batchgen.spark.runtime.EngineSpec;
import org.junit.jupiter.api.Test;

class PluginWireTest {
  private static final EngineSpec SPEC = new EngineSpec("/models/m", "cpu", 2,
      SchedulingMode.LOCK_STEP, 1L << 30, 64);

  /** One sample of every message kind, with edge values (null, unicode, extremes). */
  static final List<Message> SAMPLES = List.of(
      new Register("7", "worker-3.example", 4242L, 16, "0"),
      new Register("driver", "h", 1L, 0, null),
      new Welcome(99L, 3),
      new LoadReport("12", Long.MAX_VALUE, 0, 512, 1L << 40, 0L),
      new Ping("3", 17L),
      new Pong(-1L, 0),
      new StartFailed("5", "hôte-ünïcödé", "Add --add-modules=jdk.incubator.vector to "
          + "spark.executor.extraJavaOptions; 数据"),
      new LoadReport("4", 9, 1, 2, 3, 4, new MigrationCounts(1, 2, 3, 4, 5),
          List.of(new RuntimeLoad(SPEC, "sha256:ab", 1, 2, 3, 4, 5, 6.5, 7.5, 8, 9.5, 10),
              new RuntimeLoad(SPEC, "sha256:cd", 0, 1, 0, 0, 0, 0, 0, 8, 0, 4, 17, 64,
                  List.of(5L, 0L, 9L), 1)),
          List.of(new MigratedResult(3, "1", "w9/x", new int[] {1, 2, 3}, FinishReason.STOP,
              null, 4, 0), new MigratedResult(4, "2", "w9/y", new int[0], FinishReason.ERROR,
              "bad", 0, 1))),
      new Orders(List.of(new MigrateOut(1, "2", SPEC, 5, Move.Kind.QUEUED, 4_000)),
          List.of(new MigrateIn(2, "3", SPEC, "sha256:cd", 4)),
          List.of(new MigratedResult(5, "1", "w1/z", new int[] {7}, FinishReason.LENGTH, null,
              1, 2)), List.of(6L, 7L), List.of(8L)),
      Orders.NONE,
      new StateChunk(11, 0, true, new byte[] {1, 2, 3}),
      new FetchChunk(11, 2),
      new Ack(false, "full"),
      new Ack(true, null),
      new MoveDone(12, "3", false, 0, "refused"),
      new TaskProgress("2", List.of(new TaskReport("0123456789ab", 3, 7, Long.MAX_VALUE,
          new TaskCounts(new RowSample(10, 200, 300), new RowSample(8, 160, 200), 1, 2, 64,
              12_345)),
          new TaskReport("job-ünïcödé", -1, 0, 0, TaskCounts.NONE))));

  @Test
  void everyMessageKindRoundTrips() {
    for (Message m : SAMPLES) {
      // Compared as bytes: records holding arrays do not compare their contents with equals.
      assertThat(PluginWire.encode(PluginWire.decode(PluginWire.encode(m))))
          .isEqualTo(PluginWire.encode(m));
      assertThat(PluginWire.decode(PluginWire.encode(m)).getClass()).isEqualTo(m.getClass());
    }
  }

  @Test
  void everyMessageKindHasASampleAndAUniqueTag() {
    Set<Class<?>> kinds = Set.of(Message.class.getPermittedSubclasses());
    assertThat(SAMPLES.stream().map(Object::getClass).collect(Collectors.toSet()))
        .isEqualTo(kinds);
    assertThat(SAMPLES.stream().map(PluginWire::tagOf).distinct()).hasSize(kinds.size());
  }

  @Test
  void framedBytesCrossJavaSerializationWithJdkClassesOnly() throws Exception {
    // What Spark's RPC does on an executor: Java deserialisation with the system class loader,
    // which on a cluster lacks the application jar. Here: only the bootstrap loader, stricter.
    for (Message m : SAMPLES) {
      ByteArrayOutputStream buf = new ByteArrayOutputStream();
      try (ObjectOutputStream out = new ObjectOutputStream(buf)) {
        out.writeObject(PluginWire.encode(m));
      }
      Object back;
      try (ObjectInputStream in = new JdkOnlyInputStream(
          new ByteArrayInputStream(buf.toByteArray()))) {
        back = in.readObject();
      }
      assertThat(PluginWire.encode(PluginWire.decode(back))).isEqualTo(PluginWire.encode(m));
    }
  }

  @Test
  void largeBytePayloadsRoundTrip() {
    byte[] payload = new byte[6 << 20];
    new SplittableRandom(1).nextBytes(payload);
    PluginWire.Out out = new PluginWire.Out();
    out.bytes(payload).string("after");
    byte[] wire = out.toByteArray();
    PluginWire.In in = new PluginWire.In(ByteBuffer.wrap(wire), "Test");
    assertThat(in.bytes("payload")).isEqualTo(payload);
    assertThat(in.string("after")).isEqualTo("after");
    in.expectEnd();
  }

  @Test
  void decodeChecksItsReplyType() {
    byte[] welcome = PluginWire.encode(new Welcome(1, 1));
    assertThat(PluginWire.decode(welcome, Welcome.class)).isEqualTo(new Welcome(1, 1));
    assertThatThrownBy(() -> PluginWire.decode(welcome, Pong.class))
        .isInstanceOf(PluginProtocolException.class)
        .hasMessage("Expected a Pong message, got Welcome");
  }

  @Test
  void objectsThatAreNotOurBytesAreRefusedNamingWhatArrived() {
    assertThatThrownBy(() -> PluginWire.decode(new Welcome(1, 1)))
        .isInstanceOf(PluginProtocolException.class)
        .hasMessageContaining("Expected a BatchGen plugin message (byte[]), got "
            + Welcome.class.getName());
    assertThatThrownBy(() -> PluginWire.decode(null)).hasMessageContaining("got null");
    assertThatThrownBy(() -> PluginWire.decode(new byte[0]))
        .hasMessage("Not a BatchGen plugin message: 0 bytes starting 0x");
    assertThatThrownBy(() -> PluginWire.decode(new byte[] {'X', 'G', 1, 1}))
        .hasMessage("Not a BatchGen plugin message: 4 bytes starting 0x58470101");
  }

  @Test
  void anotherProtocolVersionIsRefusedWithTheFix() {
    byte[] b = PluginWire.encode(new Ping("1", 2));
    b[2] = (byte) (PluginWire.VERSION + 1);
    assertThatThrownBy(() -> PluginWire.decode(b))
        .isInstanceOf(PluginProtocolException.class)
        .hasMessageContaining("protocol version " + (PluginWire.VERSION + 1))
        .hasMessageContaining("deploy the same BatchGen jar to both");
  }

  @Test
  void unknownTagsAreRefusedListingTheKnownOnes() {
    byte[] b = PluginWire.encode(new Ping("1", 2));
    b[3] = (byte) 200;
    assertThatThrownBy(() -> PluginWire.decode(b))
        .hasMessageStartingWith("Unknown BatchGen plugin message tag 200 (protocol version 4 "
            + "knows 1 Register, 2 Welcome, 3 LoadReport, 4 Ping, 5 Pong, 6 StartFailed, 7 Orders,"
            + " 8 StateChunk, 9 FetchChunk, 10 Ack, 11 MoveDone");
  }

  @Test
  void everyTruncationOfEveryMessageIsRefusedNamingTheField() {
    for (Message m : SAMPLES) {
      byte[] full = PluginWire.encode(m);
      for (int len = 4; len < full.length; len++) {
        byte[] cut = Arrays.copyOf(full, len);
        assertThatThrownBy(() -> PluginWire.decode(cut))
            .as("%s cut to %d of %d bytes", m, len, full.length)
            .isInstanceOf(PluginProtocolException.class)
            .hasMessageStartingWith("Malformed BatchGen plugin message "
                + m.getClass().getSimpleName() + ": field ")
            .hasMessageContaining("(truncated message)");
      }
    }
  }

  @Test
  void trailingBytesAreRefused() {
    byte[] full = PluginWire.encode(new Welcome(5, 6));
    byte[] longer = Arrays.copyOf(full, full.length + 3);
    assertThatThrownBy(() -> PluginWire.decode(longer))
        .hasMessage("BatchGen plugin message Welcome has 3 unexpected trailing bytes");
  }

  @Test
  void badLengthsCountsAndTextAreRefusedNamingTheField() {
    // Register: executorId string first; a length of -2 is neither null (-1) nor a length.
    assertThatThrownBy(() -> PluginWire.decode(frame(1, ByteBuffer.allocate(4).putInt(-2))))
        .hasMessage("Malformed BatchGen plugin message Register: field executorId length -2 is "
            + "negative");
    // A required string sent as null.
    assertThatThrownBy(() -> PluginWire.decode(frame(1, ByteBuffer.allocate(4).putInt(-1))))
        .hasMessage("Malformed BatchGen plugin message Register: field executorId is null but "
            + "required");
    // Invalid UTF-8 in the host.
    ByteBuffer badText = ByteBuffer.allocate(4 + 1 + 4 + 2).putInt(1).put((byte) 'a')
        .putInt(2).put((byte) 0xc3).put((byte) 0x28);
    assertThatThrownBy(() -> PluginWire.decode(frame(1, badText)))
        .hasMessage("Malformed BatchGen plugin message Register: field host is not valid UTF-8");
    // A negative count in Welcome.
    assertThatThrownBy(() -> PluginWire.decode(frame(2,
        ByteBuffer.allocate(12).putLong(1).putInt(-5))))
        .hasMessage("Malformed BatchGen plugin message Welcome: field registeredExecutors count "
            + "-5 is negative");
    // A length far beyond the message.
    assertThatThrownBy(() -> PluginWire.decode(frame(4,
        ByteBuffer.allocate(4).putInt(Integer.MAX_VALUE))))
        .hasMessageContaining("field executorId needs 2147483647 bytes but only 0 remain");
  }

  @Test
  void booleansMustBeZeroOrOne() {
    PluginWire.In in = new PluginWire.In(ByteBuffer.wrap(new byte[] {2}), "Test");
    assertThatThrownBy(() -> in.bool("flag"))
        .hasMessage("Malformed BatchGen plugin message Test: field flag boolean byte 2 is "
            + "neither 0 nor 1");
  }

  @Test
  void randomBytesNeverDecodeIntoSomethingElse() {
    // Fuzz: after a valid header, arbitrary bytes either decode (and then re-encode to the same
    // bytes) or fail with our exception, never another one (no overflow, no underflow, no OOM).
    SplittableRandom rnd = new SplittableRandom(7);
    for (int i = 0; i < 20_000; i++) {
      byte[] b = new byte[4 + rnd.nextInt(40)];
      rnd.nextBytes(b);
      b[0] = 'B';
      b[1] = 'G';
      b[2] = (byte) PluginWire.VERSION;
      b[3] = (byte) (1 + rnd.nextInt(6));
      try {
        Message m = PluginWire.decode(b);
        assertThat(PluginWire.encode(m)).isEqualTo(b);
      } catch (PluginProtocolException expected) {
        assertThat(expected.getMessage()).contains("BatchGen plugin message ");
      }
    }
  }

  private static byte[] frame(int tag, ByteBuffer fields) {
    byte[] body = Arrays.copyOf(fields.array(), fields.position());
    byte[] out = new byte[4 + body.length];
    out[0] = 'B';
    out[1] = 'G';
    out[2] = (byte) PluginWire.VERSION;
    out[3] = (byte) tag;
    System.arraycopy(body, 0, out, 4, body.length);
    return out;
  }

  /** Resolves classes with the bootstrap loader only (JDK classes; nothing of ours). */
  private static final class JdkOnlyInputStream extends ObjectInputStream {
    JdkOnlyInputStream(InputStream in) throws IOException {
      super(in);
    }

    @Override
    protected Class<?> resolveClass(ObjectStreamClass desc) throws ClassNotFoundException {
      return Class.forName(desc.getName(), false, null);
    }
  }
}
