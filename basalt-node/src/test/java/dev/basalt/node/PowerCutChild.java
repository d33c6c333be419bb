package dev.basalt.node;

import dev.basalt.api.UpdatePhase;
import java.nio.file.Path;

/**
 * Runs one update in its own JVM and freezes at a named point (printing {@code AT <point>}), where
 * the parent kills it with SIGKILL. Points: {@code phase:<json phase>}, {@code <task>@<fraction>}
 * (the first progress event of a task whose done/total reaches the fraction; for the root task,
 * whose total is unknown until the end, a byte count), {@code <task>@end}.
 */
public final class PowerCutChild {
  private PowerCutChild() {}

  public static void main(String[] args) throws Exception {
    Path sysroot = Path.of(args[0]);
    Path disk = Path.of(args[1]);
    Path esp = Path.of(args[2]);
    String ref = args[3];
    String point = args[4];
    Node node = Node.open(NodeEnvironment.sysroot(sysroot, disk, esp));
    UpdateListener freeze = new UpdateListener() {
      int layersSeen;
      String currentLayer;

      @Override
      public void phase(UpdatePhase phase, String detail) {
        if (point.equals("phase:" + dev.basalt.api.ApiJson.mapper().valueToTree(phase).asString())) stop();
      }

      @Override
      public void progress(String task, long done, long total) {
        String kind = task.startsWith("layer ") ? "layer" : task;
        if (kind.equals("layer") && !task.equals(currentLayer)) {
          currentLayer = task;
          layersSeen++;
        }
        String name = kind.equals("layer") ? "layer" + layersSeen : kind;
        int at = point.indexOf('@');
        if (at < 0 || !point.substring(0, at).equals(name)) return;
        String spec = point.substring(at + 1);
        if (spec.equals("end")) {
          if (total >= 0 && done == total) stop();
        } else if (spec.endsWith("MiB")) {
          if (done >= Long.parseLong(spec.substring(0, spec.length() - 3)) << 20) stop();
        } else if (total > 0 && done >= (long) (Double.parseDouble(spec) * total) && done < total) {
          stop();
        }
      }
    };
    UpdateResult r = Updater.builder(node).listener(freeze).build().stage(ref);
    System.out.println("DONE " + r.outcome());
  }

  private static void stop() {
    System.out.println("AT");
    System.out.flush();
    try {
      Thread.sleep(Long.MAX_VALUE);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
