package io.batchgen.io;

import java.util.Objects;

/**
 * What produced a result, written beside every row so a table of completions explains itself.
 *
 * @param modelId       the model as the user named it (path or name)
 * @param modelHash     a content hash of the weights and config (e.g. sha256 of the index)
 * @param engineVersion the BatchGen version
 */
public record Provenance(String modelId, String modelHash, String engineVersion) {

  public Provenance {
    Objects.requireNonNull(modelId, "modelId");
    Objects.requireNonNull(modelHash, "modelHash");
    Objects.requireNonNull(engineVersion, "engineVersion");
  }
}
