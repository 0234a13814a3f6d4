package io.batchgen.engine.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.batchgen.core.sim.CostModel;
import io.batchgen.core.sim.ModuleCost;
import io.batchgen.engine.run.CostCalibration.Point;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CostCalibrationTest {

  @Test
  void theFitRecoversALinearCostExactly() {
    List<Point> points = new ArrayList<>();
    for (int rows : new int[] {1, 4, 16, 64}) {
      for (long context : new long[] {0, 1000, 5000}) {
        points.add(new Point("attention", rows, context, 5_000 + 300.0 * rows + 2.5 * context));
      }
    }
    double[] worst = new double[3];
    ModuleCost c = CostCalibration.fit(points, "attention", true, worst, 0);
    assertThat(c.fixedNanos()).isCloseTo(5_000, within(1e-3));
    assertThat(c.perRowNanos()).isCloseTo(300, within(1e-6));
    assertThat(c.perContextNanos()).isCloseTo(2.5, within(1e-9));
    assertThat(worst[0]).isLessThan(1e-9);
  }

  @Test
  void aNegativeTermIsDroppedAndTheRestRefitted() {
    // Costs that fall with the context: the context term would be negative, so it is left out.
    List<Point> points = List.of(new Point("expert", 1, 10, 1_000),
        new Point("expert", 8, 0, 4_500), new Point("expert", 64, 50, 32_500));
    double[] worst = new double[3];
    ModuleCost c = CostCalibration.fit(points, "expert", true, worst, 1);
    assertThat(c.perContextNanos()).isZero();
    assertThat(c.perRowNanos()).isPositive();
    assertThat(c.fixedNanos()).isGreaterThanOrEqualTo(0);
  }

  @Test
  void theCpuBackendOfTheTinyModelIsMeasuredIntoACostModelOfItsShape() {
    CostCalibration.Calibration cal = CostCalibration.measure("tiny", "cpu", 1, 1e9,
        java.time.Duration.ofSeconds(1));
    CostModel m = cal.model();
    assertThat(m.name()).isEqualTo("cpu-measured");
    assertThat(m.layers()).isEqualTo(2);
    assertThat(m.experts()).isEqualTo(8);
    assertThat(m.topK()).isEqualTo(2);
    assertThat(m.kvBytesPerPosition()).isPositive();
    // The coefficients themselves depend on the machine and its load: only their form here.
    assertThat(m.expert().nanos(64, 0)).isGreaterThanOrEqualTo(m.expert().nanos(1, 0));
    assertThat(cal.points()).isNotEmpty().allSatisfy(p -> assertThat(p.nanos()).isPositive());
    assertThat(CostCalibration.describe(cal)).contains("worst fit error");
  }
}
