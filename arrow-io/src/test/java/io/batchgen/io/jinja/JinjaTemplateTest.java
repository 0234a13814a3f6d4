package io.batchgen.io.jinja;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the Python-Jinja2 cases cannot pin down: the clock, the limits, the value boundary. */
class JinjaTemplateTest {
  private static final ZonedDateTime JULY_26 =
      ZonedDateTime.of(2024, 7, 26, 9, 5, 3, 0, ZoneOffset.UTC);

  @Test
  void strftimeNowFormatsThePythonWayFromTheGivenClock() {
    // Llama 3.1's Instruct template: strftime_now("%d %b %Y")
    String out = JinjaTemplate.parse("{{ strftime_now('%d %b %Y') }}|{{ strftime_now("
        + "'%A %B %-d' if false else '%A %B %d, %H:%M:%S %p %j %y %m %%') }}")
        .render(Map.of(), JinjaTemplate.Limits.DEFAULT, () -> JULY_26);

    assertThat(out).isEqualTo("26 Jul 2024|Friday July 26, 09:05:03 AM 208 24 07 %");
  }

  @Test
  void limitsStopRunawayTemplates() {
    JinjaTemplate.Limits small = new JinjaTemplate.Limits(100, 50, 4);

    assertThatThrownBy(() -> JinjaTemplate.parse("{% for i in range(51) %}{% endfor %}")
        .render(Map.of(), small, () -> JULY_26))
        .isInstanceOf(TemplateException.LimitExceeded.class).hasMessageContaining("50 loop");
    assertThatThrownBy(() -> JinjaTemplate.parse("{% for i in range(20) %}0123456789{% endfor %}")
        .render(Map.of(), small, () -> JULY_26))
        .isInstanceOf(TemplateException.LimitExceeded.class).hasMessageContaining("100");
    assertThatThrownBy(() -> JinjaTemplate.parse("{% set ns = namespace(s='ab') %}"
        + "{% for i in range(10) %}{% set ns.s = ns.s + ns.s %}{% endfor %}")
        .render(Map.of(), small, () -> JULY_26))
        .isInstanceOf(TemplateException.LimitExceeded.class);
    assertThatThrownBy(() -> JinjaTemplate.parse("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}")
        .render(Map.of(), small, () -> JULY_26))
        .isInstanceOf(TemplateException.LimitExceeded.class).hasMessageContaining("4 deep");
  }

  @Test
  void variablesAreDataAndHostObjectsAreRefused() {
    assertThat(JinjaTemplate.parse("{{ x.a[1] + n }}").render(Map.of("x",
        Map.of("a", List.of(1, 2)), "n", 40))).isEqualTo("42");
    assertThatThrownBy(() -> JinjaTemplate.parse("{{ x }}").render(Map.of("x", new Object())))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[x]");
    assertThat(JinjaTemplate.parse("[{{ s.__class__ }}][{{ s._x is defined }}]")
        .render(Map.of("s", "str"))).isEqualTo("[][False]");
  }

  @Test
  void syntaxErrorsNameTheLine() {
    assertThatThrownBy(() -> JinjaTemplate.parse("line one\n{% if x %}\nno end"))
        .isInstanceOf(TemplateException.class)
        .satisfies(e -> assertThat(((TemplateException) e).line()).isEqualTo(3))
        .hasMessageContaining("endif");
  }
}
