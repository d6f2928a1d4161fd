package io.ainative.transforms;

import java.io.Serializable;
import java.util.Locale;
import java.util.Objects;

/**
 * Where a model runs, as a user writes it: {@code cpu}, {@code gpu} (the first GPU), {@code gpu:N}
 * or {@code auto} (the first GPU if the engine sees one, else the CPU).
 *
 * <p>Only the syntax is checked here; whether the GPU exists is checked where the model is loaded,
 * because the machine that builds the pipeline is rarely the one that runs it.
 */
public final class DeviceSpec implements Serializable {
  private static final long serialVersionUID = 1L;

  /** The kinds of device a spec can name. */
  public enum Kind {
    CPU,
    GPU,
    AUTO
  }

  private final Kind kind;
  private final int gpuIndex;

  private DeviceSpec(Kind kind, int gpuIndex) {
    this.kind = kind;
    this.gpuIndex = gpuIndex;
  }

  public static DeviceSpec cpu() {
    return new DeviceSpec(Kind.CPU, -1);
  }

  public static DeviceSpec gpu(int index) {
    if (index < 0) {
      throw new IllegalArgumentException("GPU index must be >= 0, was " + index);
    }
    return new DeviceSpec(Kind.GPU, index);
  }

  public static DeviceSpec auto() {
    return new DeviceSpec(Kind.AUTO, -1);
  }

  /**
   * Parses {@code cpu}, {@code gpu}, {@code gpu:N} or {@code auto} (case-insensitive).
   *
   * @throws IllegalArgumentException naming the text when it is none of these
   */
  public static DeviceSpec parse(String text) {
    if (text == null) {
      throw new IllegalArgumentException(
          "device must be one of cpu, gpu, gpu:N, auto; was null");
    }
    String t = text.trim().toLowerCase(Locale.ROOT);
    switch (t) {
      case "cpu":
        return cpu();
      case "gpu":
      case "cuda":
        return gpu(0);
      case "auto":
        return auto();
      default:
        break;
    }
    int colon = t.indexOf(':');
    if (colon > 0) {
      String prefix = t.substring(0, colon);
      String index = t.substring(colon + 1);
      if ((prefix.equals("gpu") || prefix.equals("cuda")) && index.matches("[0-9]{1,4}")) {
        return gpu(Integer.parseInt(index));
      }
    }
    throw new IllegalArgumentException(
        "device '" + text + "' cannot exist: use one of cpu, gpu, gpu:N (N >= 0), auto");
  }

  public Kind kind() {
    return kind;
  }

  /** The GPU index for {@link Kind#GPU}; -1 otherwise. */
  public int gpuIndex() {
    return gpuIndex;
  }

  /** The canonical text form, which {@link #parse} reads back. */
  @Override
  public String toString() {
    switch (kind) {
      case CPU:
        return "cpu";
      case AUTO:
        return "auto";
      default:
        return "gpu:" + gpuIndex;
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DeviceSpec
        && ((DeviceSpec) o).kind == kind
        && ((DeviceSpec) o).gpuIndex == gpuIndex;
  }

  @Override
  public int hashCode() {
    return Objects.hash(kind, gpuIndex);
  }
}
