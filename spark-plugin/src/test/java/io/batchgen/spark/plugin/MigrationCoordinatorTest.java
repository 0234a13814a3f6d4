package io.batchgen.spark.plugin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.batchgen.core.rebalance.Move;
import io.batchgen.core.runtime.FinishReason;
import io.batchgen.core.runtime.SchedulingMode;
import io.batchgen.spark.plugin.PluginMessages.FetchChunk;
import io.batchgen.spark.plugin.PluginMessages.LoadReport;
import io.batchgen.spark.plugin.PluginMessages.MigratedResult;
import io.batchgen.spark.plugin.PluginMessages.MigrationCounts;
import io.batchgen.spark.plugin.PluginMessages.MoveDone;
import io.batchgen.spark.plugin.PluginMessages.Orders;
import io.batchgen.spark.plugin.PluginMessages.RuntimeLoad;
import io.batchgen.spark.plugin.PluginMessages.StateChunk;
import io.batchgen.spark.runtime.EngineSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The driver's side of migration with a scripted policy: orders, state in transit, loss. */
class MigrationCoordinatorTest {
  private static final EngineSpec SPEC = new EngineSpec("/m", "cpu", 1,
      SchedulingMode.COROUTINE, 0, 64);
  private static final Move MOVE = new Move("a", "b",
      MigrationCoordinator.specKey(SPEC), 5, Move.Kind.IN_FLIGHT_WITH_KV);

  private long seq;

  private LoadReport report(String executor, int sequences, MigratedResult... results) {
    List<RuntimeLoad> runtimes = sequences == 0 ? List.of() : List.of(new RuntimeLoad(SPEC,
        "sha256:x", 0, sequences, 0, 0, 100L * sequences, 100, 1000, 1024, 50, 64));
    return new LoadReport(executor, ++seq, 0, sequences, 0, 0, MigrationCounts.NONE, runtimes,
        List.of(results));
  }

  private static MigrationCoordinator coordinator(long buffer) {
    return new MigrationCoordinator((loads, transport, now) -> loads.stream()
        .anyMatch(l -> l.executorId().equals("b")) ? List.of(MOVE) : List.of(), buffer);
  }

  /**
   * Has the policy order its move of 5 sequences from a to b and hands the order to a, which has
   * uploaded nothing yet. Returns the move's id.
   */
  private long orderedMove(MigrationCoordinator c) {
    c.onReport(report("a", 20));
    c.onReport(report("b", 0));
    c.rebalance(0);
    return c.onReport(report("a", 20)).migrateOut().get(0).moveId();
  }

  /**
   * {@link #orderedMove}, carried through until b hosts the sequences: one 100-byte chunk up and
   * down. Returns the move's id.
   */
  private long hostedMove(MigrationCoordinator c) {
    long id = orderedMove(c);
    c.onUpload(chunk(id, 0, true, 100));
    c.onReport(report("b", 0));
    c.onFetch(new FetchChunk(id, 0));
    c.onMoveDone(new MoveDone(id, "b", true, 5, null));
    return id;
  }

  private static StateChunk chunk(long move, int index, boolean last, int bytes) {
    return new StateChunk(move, index, last, new byte[bytes]);
  }

  @Test
  void aMoveGoesOutToItsSourceInToItsDestinationAndResultsBackToTheOwner() {
    MigrationCoordinator c = coordinator(1 << 20);
    c.onReport(report("a", 20));
    c.onReport(report("b", 0));
    assertThat(c.rebalance(0)).containsExactly(MOVE);

    Orders forA = c.onReport(report("a", 20));
    assertThat(forA.migrateOut()).singleElement().satisfies(o -> {
      assertThat(o.to()).isEqualTo("b");
      assertThat(o.spec()).isEqualTo(SPEC);
      assertThat(o.sequences()).isEqualTo(5);
    });
    long id = forA.migrateOut().get(0).moveId();
    assertThat(c.onUpload(chunk(id, 0, false, 1000)).accepted()).isTrue();
    assertThat(c.onReport(report("b", 0)).migrateIn()).as("not ready before the last chunk")
        .isEmpty();
    assertThat(c.onUpload(chunk(id, 1, true, 500)).accepted()).isTrue();
    assertThat(c.bufferedBytes()).isEqualTo(1500);

    Orders forB = c.onReport(report("b", 0));
    assertThat(forB.migrateIn()).singleElement().satisfies(in -> {
      assertThat(in.from()).isEqualTo("a");
      assertThat(in.chunks()).isEqualTo(2);
      assertThat(in.fingerprint()).isEqualTo("sha256:x");
    });
    assertThat(c.onFetch(new FetchChunk(id, 0)).bytes()).hasSize(1000);
    assertThat(c.onFetch(new FetchChunk(id, 1)).last()).isTrue();
    assertThat(c.bufferedBytes()).as("freed after the last fetch").isZero();
    c.onMoveDone(new MoveDone(id, "b", true, 5, null));
    assertThat(c.movedSequences()).isEqualTo(5);

    MigratedResult done = new MigratedResult(id, "a", "w1/3", new int[] {4, 5},
        FinishReason.LENGTH, null, 7, 0);
    c.onReport(report("b", 5, done));
    assertThat(c.onReport(report("a", 15)).results()).containsExactly(done);
  }

  @Test
  void aSettledMoveCountsAsInFlightUntilEachSideReportedSince() {
    java.util.Map<String, Integer> seen = new java.util.HashMap<>();
    boolean[] order = {true};
    MigrationCoordinator c = new MigrationCoordinator((loads, transport, now) -> {
      loads.forEach(l -> seen.put(l.executorId(), l.migrationsInFlight()));
      boolean first = order[0];
      order[0] = false;
      return first ? List.of(MOVE) : List.of();
    }, 1 << 20);
    long id = hostedMove(c);
    // Hosted now, but the latest reports of both sides predate it: they do not show the move.
    c.rebalance(1);
    assertThat(seen).containsEntry("a", 1).containsEntry("b", 1);
    c.onReport(report("b", 5));
    c.rebalance(2);
    assertThat(seen).as("b reported since").containsEntry("a", 1).containsEntry("b", 0);
    c.onReport(report("a", 15));
    c.rebalance(3);
    assertThat(seen).containsEntry("a", 0).containsEntry("b", 0);
  }

  @Test
  void uploadsBeyondTheBufferWaitUntilStateIsFetched() {
    MigrationCoordinator c = coordinator(1000);
    long id = orderedMove(c);
    assertThat(c.onUpload(chunk(id, 0, false, 800)).accepted()).isTrue();
    assertThat(c.onUpload(chunk(id, 1, true, 800)).accepted()).as("back-pressure").isFalse();
    assertThat(c.bufferedBytes()).isEqualTo(800);
  }

  @Test
  void aLostDestinationSendsItsMovesBackAndALostOwnersResultsAreDropped() {
    MigrationCoordinator c = coordinator(1 << 20);
    long id = hostedMove(c);

    c.executorLost("b");
    assertThat(c.onReport(report("a", 20)).reclaim()).containsExactly(id);
    assertThat(c.status()).singleElement().satisfies(m -> {
      assertThat(m.ending()).isEqualTo(MoveStatus.Ending.DESTINATION_LOST);
      assertThat(m.endedIn()).isEqualTo("HOSTED");
    });
    assertThatThrownBy(() -> c.onFetch(new FetchChunk(id, 0)))
        .isInstanceOf(IllegalArgumentException.class);

    // The owner is lost: results for it are dropped, and its hosted sequences are cancelled.
    MigrationCoordinator c2 = coordinator(1 << 20);
    long id2 = orderedMove(c2);
    c2.onUpload(chunk(id2, 0, true, 100));
    c2.executorLost("a");
    Orders forB = c2.onReport(report("b", 0,
        new MigratedResult(id2, "a", "w1/1", new int[] {1}, FinishReason.LENGTH, null, 3, 0)));
    assertThat(forB.migrateIn()).as("never fetched: cancelled instead").isEmpty();
    assertThat(forB.cancel()).containsExactly(id2);
  }

  @Test
  void aRefusedMoveIsReclaimedByItsSource() {
    MigrationCoordinator c = coordinator(1 << 20);
    long id = orderedMove(c);
    c.onUpload(chunk(id, 0, true, 100));
    c.onMoveDone(new MoveDone(id, "b", false, 0, "fingerprint differs"));
    assertThat(c.onReport(report("a", 20)).reclaim()).containsExactly(id);
    assertThat(c.status().get(0).ending()).isEqualTo(MoveStatus.Ending.REFUSED);
  }

  @Test
  void aSourceLostWhileUploadingEndsItsMoveThereFreesTheStateAndOrdersNothing() {
    MigrationCoordinator c = coordinator(1 << 20);
    long id = orderedMove(c);
    assertThat(c.onUpload(chunk(id, 0, false, 700)).accepted()).isTrue();
    assertThat(c.status().get(0).state()).isEqualTo("UPLOADING");

    c.executorLost("a");
    assertThat(c.bufferedBytes()).isZero();
    assertThat(c.status()).singleElement().satisfies(m -> {
      assertThat(m.state()).isEqualTo("DONE");
      assertThat(m.ending()).isEqualTo(MoveStatus.Ending.SOURCE_LOST);
      assertThat(m.endedIn()).isEqualTo("UPLOADING");
    });
    Orders forB = c.onReport(report("b", 0));
    assertThat(forB.migrateIn()).isEmpty();
    assertThat(forB.cancel()).as("the destination never had any of it").isEmpty();
    assertThat(c.onUpload(chunk(id, 1, true, 700)).accepted()).as("a late chunk").isFalse();
  }

  @Test
  void executorsThatStopReportingAreFound() {
    MigrationCoordinator c = coordinator(1 << 20);
    c.onReport(report("a", 1));
    long now = System.nanoTime();
    assertThat(c.silentSince(now, 60_000_000_000L)).isEmpty();
    assertThat(c.silentSince(now + 61_000_000_000L, 60_000_000_000L)).containsExactly("a");
  }
}
