// Databricks notebook source
// MAGIC %md
// MAGIC # BatchGen quickstart
// MAGIC
// MAGIC The flow of `notebooks/quickstart.ipynb` on a Databricks-style cluster: make the default model
// MAGIC (a tiny random-weight Mixtral-style MoE, generated from a seed) and sample prompts, run the
// MAGIC `batchgen` sink, read and inspect the results, and open the job report.
// MAGIC
// MAGIC **The cluster** needs the BatchGen bundle on its classpath before Spark starts (an init
// MAGIC script or a cluster library) and `spark.plugins io.batchgen.spark.BatchGenPlugin` in its
// MAGIC Spark config: see `docs/deployment.md`, "Databricks-style platforms". Runtime: Spark 4.2,
// MAGIC Scala 2.13, Java 17 or later.

// COMMAND ----------

import io.batchgen.engine.model.TinyModels
import io.batchgen.cli.SamplePrompts
import java.nio.file.{Files, Paths}

// Spark reads and writes dbfs:/tmp/batchgen-quickstart; the model loader reads local files, the
// same folder through the /dbfs mount, on the driver and on every executor.
val base = "/tmp/batchgen-quickstart"
val local = "/dbfs" + base
val model = Paths.get(local, "model")
if (!Files.exists(model.resolve("config.json"))) {
  TinyModels.write("tiny", "mixtral", "bf16", 1, model)
}
println(s"model in $model")

// COMMAND ----------

// MAGIC %md
// MAGIC A prompt table has an `id` and either a `prompt` (text) or `messages` (a chat, rendered
// MAGIC with the model's chat template); optional columns override settings per row
// MAGIC (`max_new_tokens`, `temperature`, `top_p`, `top_k`, `seed`, `stop`; `docs/schemas.md`).

// COMMAND ----------

val textPrompts = SamplePrompts.dataset(spark, 200, 42).selectExpr("id", "prompt",
  "cast(null as array<struct<role:string,content:string>>) as messages",
  "cast(null as int) as max_new_tokens")
val chatPrompts = spark.range(1000, 1010).selectExpr("id", "cast(null as string) as prompt",
  """array(named_struct('role', 'system', 'content', 'Answer in one line.'),
           named_struct('role', 'user', 'content', concat('What is ', id, ' plus one?'))) as messages""",
  "8 as max_new_tokens")
textPrompts.unionByName(chatPrompts).write.mode("overwrite").parquet(s"$base/prompts.parquet")
display(spark.read.parquet(s"$base/prompts.parquet").where("id in (0, 1, 1000)"))

// COMMAND ----------

// MAGIC %md
// MAGIC ## Generate
// MAGIC The sink checks the options, the columns and the model before any task runs; each write
// MAGIC task then feeds its rows to its executor's shared runtime and writes every result as it
// MAGIC finishes. Every option is in `docs/configs.md`.

// COMMAND ----------

val out = s"$base/completions"
spark.read.parquet(s"$base/prompts.parquet")
  .write.format("batchgen")
  .option("model", model.toString)
  .option("maxNewTokens", "16")
  .option("onError", "record")
  .mode("overwrite")
  .save(out)

// COMMAND ----------

// MAGIC %md
// MAGIC ## Read and inspect the results
// MAGIC One row per prompt id: the completion, token counts, the finish reason, the error if any, and
// MAGIC the model and engine that made it.

// COMMAND ----------

val results = spark.read.parquet(out)
results.printSchema()
display(results.groupBy("finish_reason").count().orderBy("finish_reason"))
display(results.selectExpr("id", "prompt_tokens", "completion_tokens", "finish_reason",
  "substring(completion, 1, 40) as completion_start").where("id in (0, 1, 2, 1000, 1001)").orderBy("id"))

// COMMAND ----------

// MAGIC %md
// MAGIC ## The job report
// MAGIC `_batchgen_report.html` beside the results: tokens/s per executor over time, expert-batch
// MAGIC sizes, KV cache use, finish reasons, errors, migrations and the slowest partitions, as one
// MAGIC self-contained page (SVG charts, nothing fetched).

// COMMAND ----------

displayHTML(new String(Files.readAllBytes(Paths.get(local, "completions", "_batchgen_report.html")),
  "UTF-8"))
