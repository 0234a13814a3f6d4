package io.batchgen.core.runtime;

import io.batchgen.core.sampling.SamplingParams;
import java.util.Arrays;

/**
 * One prompt to complete.
 *
 * @param id            caller's id, unique among the sequences live in one runtime; echoed in
 *                      the result and used by cancel and snapshot
 * @param promptTokens  the prompt's token ids (at least one)
 * @param sampling      how to sample and when to stop
 */
public record GenerationRequest(String id, int[] promptTokens, SamplingParams sampling) {

  public GenerationRequest {
    if (id == null || id.isEmpty()) {
      throw new IllegalArgumentException("A generation request needs a non-empty id");
    }
    if (promptTokens == null || promptTokens.length == 0) {
      throw new IllegalArgumentException("Request [" + id + "] has an empty prompt; at least one"
          + " token (e.g. BOS) is needed");
    }
    if (sampling == null) {
      throw new IllegalArgumentException("Request [" + id + "] has no sampling parameters");
    }
    promptTokens = promptTokens.clone();
  }

  @Override
  public int[] promptTokens() {
    return promptTokens.clone();
  }

  int promptLength() {
    return promptTokens.length;
  }

  int[] promptTokensShared() {
    return promptTokens;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof GenerationRequest r && id.equals(r.id)
        && Arrays.equals(promptTokens, r.promptTokens) && sampling.equals(r.sampling);
  }

  @Override
  public int hashCode() {
    return id.hashCode() * 31 + Arrays.hashCode(promptTokens);
  }

  @Override
  public String toString() {
    return "GenerationRequest[id=" + id + ", promptTokens=" + promptTokens.length + ", "
        + sampling + "]";
  }
}
