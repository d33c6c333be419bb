package dev.basalt.fleet.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.api.Health;
import dev.basalt.api.fleet.DeviceInfo;
import dev.basalt.api.fleet.StatusReport;
import dev.basalt.fleet.client.DeviceClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/** Concurrent status reports over mTLS all land (one UPDATE each); prints the rate seen (not a benchmark). */
@ParameterizedClass
@EnumSource(TestFleet.Db.class)
class StatusWriteRateTest {
  @Parameter TestFleet.Db db;
  @TempDir Path dir;

  @Test
  void concurrentReportsAllLand() throws Exception {
    try (TestFleet fleet = new TestFleet(db, dir)) {
      List<DeviceClient> devices = new ArrayList<>();
      for (int i = 0; i < 8; i++) devices.add(fleet.activeDevice("w" + i, Map.of()));
      int perDevice = 60;
      long t0 = System.nanoTime();
      try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
        List<Future<?>> fs = new ArrayList<>();
        for (DeviceClient c : devices) {
          fs.add(ex.submit(() -> {
            for (int n = 1; n <= perDevice; n++) c.report(new StatusReport(DeviceLifecycleTest.status(DeviceLifecycleTest.D1, Health.HEALTHY), n));
            return null;
          }));
        }
        for (Future<?> f : fs) f.get();
      }
      double secs = (System.nanoTime() - t0) / 1e9;
      System.out.printf("status reports (%s): %d in %.2f s = %.0f/s over mTLS, 8 devices%n", db, devices.size() * perDevice, secs,
          devices.size() * perDevice / secs);
      for (DeviceInfo d : fleet.admin.devices(null, null, null)) assertThat(d.bytesDownloaded()).as(d.name()).isEqualTo(perDevice);
    }
  }
}
