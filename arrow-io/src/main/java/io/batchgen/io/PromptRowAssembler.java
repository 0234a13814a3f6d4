package io.batchgen.io;

import io.batchgen.io.RowAssembler.RawRow;
import io.batchgen.io.RowAssembler.RowProblem;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds {@link PromptRequest}s from raw row values with the same checks as the Arrow and
 * Parquet readers: for sources that are neither, such as Spark's {@code InternalRow} (whose
 * strings are UTF-8 bytes: pass {@code UTF8String.getBytes()} so invalid UTF-8 is caught rather
 * than replaced).
 *
 * <p>One per input stream (duplicate ids are detected across all rows added). Not thread-safe.
 */
public final class PromptRowAssembler {

  private final RowAssembler assembler;

  public PromptRowAssembler(String source, PromptSchema schema, BadRowPolicy policy) {
    this.assembler = new RowAssembler(source, schema, policy);
  }

  /**
   * Adds one row.
   *
   * @param rowNumber   0-based row index in the source, for messages
   * @param id          a {@code Long}/{@code Integer}, UTF-8 {@code byte[]}, {@code String},
   *                    or null
   * @param prompt      the prompt as UTF-8 bytes, or null
   * @param messages    chat turns as {@code {role, content}} UTF-8 byte pairs, or null
   * @param overrides   per-row settings; null means none
   * @throws BadInputException for a bad row under {@link BadRowPolicy#FAIL}
   */
  public void addRow(long rowNumber, Object id, byte[] prompt, List<byte[][]> messages,
      GenerationOverrides overrides) {
    PromptSchema s = assembler.schema();
    String idText = null;
    try {
      if (id == null) {
        idText = null;
      } else if (id instanceof Long || id instanceof Integer) {
        idText = id.toString();
      } else if (id instanceof String str) {
        idText = str;
      } else if (id instanceof byte[] b) {
        idText = RowAssembler.utf8(b, s.idColumn());
      } else {
        throw new IllegalArgumentException("Unsupported id value type "
            + id.getClass().getName() + "; pass a Long, Integer, String or UTF-8 byte[]");
      }
      List<ChatMessage> turns = null;
      if (messages != null) {
        turns = new ArrayList<>(messages.size());
        for (int k = 0; k < messages.size(); k++) {
          byte[][] m = messages.get(k);
          if (m == null || m.length != 2 || m[0] == null || m[1] == null) {
            throw new RowProblem(s.messagesColumn(), "message " + k + " is null or lacks a role"
                + " or content; give every message a role and a content (may be empty).");
          }
          String role = RowAssembler.utf8(m[0], s.messagesColumn() + "." + PromptSchema.ROLE);
          if (role.isBlank()) {
            throw new RowProblem(s.messagesColumn(), "message " + k + " has no role; set role"
                + " to system, user or assistant.");
          }
          turns.add(new ChatMessage(role,
              RowAssembler.utf8(m[1], s.messagesColumn() + "." + PromptSchema.CONTENT)));
        }
      }
      assembler.accept(rowNumber, new RawRow(idText,
          RowAssembler.utf8(prompt, s.promptColumn()), turns,
          overrides == null ? GenerationOverrides.NONE : overrides));
    } catch (RowProblem p) {
      assembler.reject(rowNumber, idText, p);
    }
  }

  /** The rows added since the last call, as one batch. */
  public PromptBatch drain() {
    return assembler.drain();
  }
}
