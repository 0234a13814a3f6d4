package io.batchgen.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.tree.Node;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * A model's chat template: the Jinja program in Hugging Face's {@code tokenizer_config.json}
 * ({@code chat_template}) or {@code chat_template.jinja}, rendered with Jinjava the way
 * {@code transformers} renders it: {@code trim_blocks} and {@code lstrip_blocks} on, variables
 * {@code messages}, {@code bos_token}, {@code eos_token}, {@code add_generation_prompt}, and the
 * functions {@code raise_exception(msg)} and {@code strftime_now(format)}.
 *
 * <p>The template is parsed once; each render runs in its own interpreter and context over the
 * shared, read-only tree, so one instance serves every task thread. Build one per model.
 */
public final class ChatTemplate {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String RAISED = "the template raised: ";

  private final String template;
  private final String bosToken;
  private final String eosToken;
  private final String origin;
  private final Jinjava jinjava;
  private final Context baseContext;
  private final Node tree;

  private ChatTemplate(String template, String bosToken, String eosToken, String origin) {
    this.template = Objects.requireNonNull(template, "template");
    this.bosToken = bosToken == null ? "" : bosToken;
    this.eosToken = eosToken == null ? "" : eosToken;
    this.origin = origin;
    JinjavaConfig config = JinjavaConfig.newBuilder()
        .withTrimBlocks(true)
        .withLstripBlocks(true)
        // Python Jinja2 semantics that HF templates rely on: '{{-' trims, Python operator
        // precedence ('a' + x | trim), strict whitespace-control parsing.
        .withLegacyOverrides(LegacyOverrides.newBuilder()
            .withUseTrimmingForNotesAndExpressions(true)
            .withParseWhitespaceControlStrictly(true)
            .withUseNaturalOperatorPrecedence(true)
            .withKeepNullableLoopValues(true)
            .withHandleBackslashInQuotesOnly(true)
            .withEvaluateMapKeys(true)
            .withIterateOverMapKeys(true)
            .withUsePyishObjectMapper(true)
            .build())
        .build();
    this.jinjava = new Jinjava(config);
    jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition(
        "", "raise_exception", ChatTemplate.class, "raiseException", String.class));
    jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition(
        "", "strftime_now", ChatTemplate.class, "strftimeNow", String.class));
    this.baseContext = jinjava.getGlobalContextCopy();
    // Jinja2's default (keep_trailing_newline=False) drops one trailing newline of the source.
    String source = template.endsWith("\n") ? template.substring(0, template.length() - 1)
        : template;
    JinjavaInterpreter parser = jinjava.newInterpreter();
    JinjavaInterpreter.pushCurrent(parser);
    try {
      this.tree = parser.parse(source);
    } finally {
      JinjavaInterpreter.popCurrent();
    }
    if (!parser.getErrorsCopy().isEmpty()) {
      throw new IllegalArgumentException("Chat template from [" + origin + "] does not parse: "
          + parser.getErrorsCopy().get(0).getMessage() + " (line "
          + parser.getErrorsCopy().get(0).getLineno() + ")");
    }
  }

  /** A template from its Jinja source and the model's special tokens (null means empty). */
  public static ChatTemplate of(String jinjaSource, String bosToken, String eosToken) {
    return new ChatTemplate(jinjaSource, bosToken, eosToken, "inline template");
  }

  /**
   * Loads the template of a Hugging Face model directory: {@code chat_template.jinja} when present,
   * else {@code chat_template} in {@code tokenizer_config.json} (a string, or a list of named
   * templates of which {@code default} is taken). Special tokens come from
   * {@code tokenizer_config.json}.
   *
   * @throws IllegalArgumentException when the model has no chat template
   */
  public static ChatTemplate fromModelDirectory(Path modelDir) {
    Path config = modelDir.resolve("tokenizer_config.json");
    Path jinjaFile = modelDir.resolve("chat_template.jinja");
    try {
      JsonNode root = Files.exists(config) ? JSON.readTree(config.toFile()) : JSON.nullNode();
      String bos = tokenText(root.get("bos_token"));
      String eos = tokenText(root.get("eos_token"));
      if (Files.exists(jinjaFile)) {
        return new ChatTemplate(Files.readString(jinjaFile, StandardCharsets.UTF_8), bos, eos,
            jinjaFile.toString());
      }
      String source = templateSource(root.get("chat_template"));
      if (source == null) {
        throw new IllegalArgumentException("Model at [" + modelDir + "] has no chat template:"
            + " neither chat_template.jinja nor a 'chat_template' entry in tokenizer_config.json."
            + " Give prompts as text in a 'prompt' column, or use an instruction-tuned model.");
      }
      return new ChatTemplate(source, bos, eos, config.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read the chat template of model [" + modelDir + "]: "
          + e.getMessage(), e);
    }
  }

  private static String templateSource(JsonNode node) {
    if (node == null || node.isNull()) {
      return null;
    }
    if (node.isTextual()) {
      return node.asText();
    }
    if (node.isArray()) {
      JsonNode first = null;
      for (JsonNode named : node) {
        if (first == null) {
          first = named.get("template");
        }
        if ("default".equals(named.path("name").asText())) {
          return named.path("template").asText();
        }
      }
      return first == null ? null : first.asText();
    }
    return null;
  }

  /** A special token is either a string or an AddedToken object with a "content" field. */
  private static String tokenText(JsonNode node) {
    if (node == null || node.isNull()) {
      return null;
    }
    return node.isTextual() ? node.asText() : node.path("content").asText(null);
  }

  /**
   * Renders {@code messages}; with {@code addGenerationPrompt} the template appends the header
   * that starts the assistant's turn.
   *
   * @throws IllegalArgumentException when the template fails (it raised an exception, or has an
   *     error); the message names the template's origin and the Jinja error, never prompt text
   */
  public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
    List<Map<String, Object>> turns = new ArrayList<>(messages.size());
    for (ChatMessage m : messages) {
      Map<String, Object> turn = new LinkedHashMap<>();
      turn.put("role", m.role());
      turn.put("content", m.content());
      turns.add(turn);
    }
    Map<String, Object> vars = new HashMap<>();
    vars.put("messages", turns);
    vars.put("bos_token", bosToken);
    vars.put("eos_token", eosToken);
    vars.put("add_generation_prompt", addGenerationPrompt);
    // Jinjava's renderForResult copies the global context (every filter, tag and function
    // library) and re-parses on each call, about 1.4 ms; rendering the parsed tree in a fresh
    // child context of one shared base copy costs a small fraction of that.
    Context context = new Context(baseContext, vars, jinjava.getGlobalConfig().getDisabled(),
        false);
    JinjavaInterpreter interpreter =
        new JinjavaInterpreter(jinjava, context, jinjava.getGlobalConfig());
    String output;
    JinjavaInterpreter.pushCurrent(interpreter);
    try {
      output = interpreter.render(tree, true);
    } finally {
      JinjavaInterpreter.popCurrent();
    }
    List<TemplateError> fatal = interpreter.getErrorsCopy().stream()
        .filter(e -> e.getSeverity() == TemplateError.ErrorType.FATAL)
        .collect(Collectors.toList());
    if (!fatal.isEmpty()) {
      TemplateError e = fatal.get(0);
      String why = e.getMessage();
      for (Throwable t = e.getException(); t != null; t = t.getCause()) {
        if (t.getMessage() != null && t.getMessage().startsWith(RAISED)) {
          why = t.getMessage(); // the template's own words, e.g. "roles must alternate"
        }
      }
      throw new IllegalArgumentException("Chat template from [" + origin + "] failed on "
          + messages.size() + " messages (roles " + messages.stream().map(ChatMessage::role)
          .collect(Collectors.joining(",")) + ") at line " + e.getLineno() + ": "
          + why + ". Check the roles and order of the messages against the model's"
          + " chat format.");
    }
    return output;
  }

  /** Where this template came from, for messages. */
  public String origin() {
    return origin;
  }

  /** Called by templates as {@code raise_exception('...')}. */
  public static String raiseException(String message) {
    throw new IllegalArgumentException(RAISED + message);
  }

  /** Called by templates as {@code strftime_now('%d %b %Y')} (Llama 3.1+). */
  public static String strftimeNow(String pythonFormat) {
    String javaFormat = pythonFormat.replace("%d", "dd").replace("%b", "MMM")
        .replace("%B", "MMMM").replace("%Y", "yyyy").replace("%m", "MM").replace("%H", "HH")
        .replace("%M", "mm").replace("%S", "ss");
    return LocalDateTime.now().format(DateTimeFormatter.ofPattern(javaFormat));
  }
}
