package io.batchgen.io.jinja;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The interpreter against Python Jinja2 itself: every case of {@code python-jinja2-cases.json}
 * was rendered by Jinja2 3.1 configured as transformers configures it (immutable sandbox,
 * trim_blocks, lstrip_blocks, loop controls, transformers' tojson and raise_exception) by
 * {@code tools/chat-conformance/jinja_cases.py}; ours must give the same text, or fail where it
 * failed (with the template's own message for raise_exception).
 */
class JinjaSemanticsTest {

  @TestFactory
  Stream<DynamicTest> rendersLikePythonJinja2() throws Exception {
    List<Map<String, Object>> cases;
    try (InputStream in = getClass().getResourceAsStream("/jinja/python-jinja2-cases.json")) {
      cases = new ObjectMapper().readValue(in, new TypeReference<>() { });
    }
    assertThat(cases).hasSizeGreaterThan(80);
    return cases.stream().map(c -> DynamicTest.dynamicTest(
        abbreviate((String) c.get("template")), () -> check(c)));
  }

  @SuppressWarnings("unchecked")
  private static void check(Map<String, Object> c) {
    String template = (String) c.get("template");
    Map<String, Object> vars = (Map<String, Object>) c.get("variables");
    if (c.containsKey("output")) {
      assertThat(JinjaTemplate.parse(template).render(vars)).isEqualTo(c.get("output"));
    } else if (c.containsKey("raised")) {
      assertThatThrownBy(() -> JinjaTemplate.parse(template).render(vars))
          .isInstanceOf(TemplateException.Raised.class)
          .hasMessageStartingWith((String) c.get("raised"));
    } else {
      assertThatThrownBy(() -> JinjaTemplate.parse(template).render(vars))
          .isInstanceOf(TemplateException.class);
    }
  }

  private static String abbreviate(String s) {
    String flat = s.replace("\n", "\\n");
    return flat.length() > 70 ? flat.substring(0, 70) + "..." : flat;
  }
}
