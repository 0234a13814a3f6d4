package io.batchgen.io;

import java.util.Objects;

/**
 * Where a prompt table keeps its data: the column names the readers look for. The override
 * columns have fixed names ({@link #MAX_NEW_TOKENS} …); each is optional and only read when
 * present. See {@code docs/schemas.md}.
 *
 * @param idColumn         the id column: long (any integer width) or string; required
 * @param promptColumn     the text prompt column (string)
 * @param messagesColumn   the chat column ({@code array<struct<role:string,content:string>>});
 *                         at least one of the two must exist, and each row sets exactly one
 * @param checkDuplicateIds whether to reject a repeated id; costs one hash-set entry per row read
 */
public record PromptSchema(
    String idColumn, String promptColumn, String messagesColumn, boolean checkDuplicateIds)
    implements java.io.Serializable {

  public static final String DEFAULT_ID = "id";
  public static final String DEFAULT_PROMPT = "prompt";
  public static final String DEFAULT_MESSAGES = "messages";
  public static final String MAX_NEW_TOKENS = "max_new_tokens";
  public static final String TEMPERATURE = "temperature";
  public static final String TOP_P = "top_p";
  public static final String TOP_K = "top_k";
  public static final String SEED = "seed";
  public static final String STOP = "stop";
  /** Names of the struct fields inside a {@code messages} element. */
  public static final String ROLE = "role";
  public static final String CONTENT = "content";

  /** {@code id}, {@code prompt}, {@code messages}, duplicate ids rejected. */
  public static final PromptSchema DEFAULT =
      new PromptSchema(DEFAULT_ID, DEFAULT_PROMPT, DEFAULT_MESSAGES, true);

  public PromptSchema {
    Objects.requireNonNull(idColumn, "idColumn");
    Objects.requireNonNull(promptColumn, "promptColumn");
    Objects.requireNonNull(messagesColumn, "messagesColumn");
  }

  public PromptSchema withIdColumn(String name) {
    return new PromptSchema(name, promptColumn, messagesColumn, checkDuplicateIds);
  }

  public PromptSchema withPromptColumn(String name) {
    return new PromptSchema(idColumn, name, messagesColumn, checkDuplicateIds);
  }

  public PromptSchema withMessagesColumn(String name) {
    return new PromptSchema(idColumn, promptColumn, name, checkDuplicateIds);
  }

  public PromptSchema withDuplicateIdCheck(boolean check) {
    return new PromptSchema(idColumn, promptColumn, messagesColumn, check);
  }

  /** The optional override columns, in schema order. */
  static final String[] OVERRIDE_COLUMNS = {MAX_NEW_TOKENS, TEMPERATURE, TOP_P, TOP_K, SEED, STOP};
}
