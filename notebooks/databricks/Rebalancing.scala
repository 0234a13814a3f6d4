// Databricks notebook source
// MAGIC %md
// MAGIC # Rebalancing: sequences move between executors
// MAGIC
// MAGIC The flow of `notebooks/rebalancing.ipynb`: a skewed job (one partition's rows generate 160
// MAGIC tokens, the other's 2) on a cluster with at least two executors, and the moves the driver's
// MAGIC rebalancer made while it ran: queued sequences travel as tokens, started ones with their KV
// MAGIC cache or to be recomputed. The task that read a row still writes its result, so every id is
// MAGIC written once. How the policy decides: `docs/rebalancing.md`.
// MAGIC
// MAGIC **The cluster**: the BatchGen bundle and `spark.plugins io.batchgen.spark.BatchGenPlugin` as in
// MAGIC `Quickstart.scala`, at least two workers, and, for a job as short as this one, quicker
// MAGIC rebalancing in the cluster's Spark config (the plugin reads these when the driver starts):
// MAGIC ```
// MAGIC spark.batchgen.rebalance.loadReportInterval 200ms
// MAGIC spark.batchgen.rebalance.interval 400ms
// MAGIC spark.batchgen.rebalance.minImbalance 300ms
// MAGIC spark.batchgen.rebalance.cooldown 2s
// MAGIC ```

// COMMAND ----------

import io.batchgen.engine.model.TinyModels
import io.batchgen.spark.plugin.BatchGenDriverPlugin
import java.nio.file.{Files, Paths}
import scala.jdk.CollectionConverters._

val base = "/tmp/batchgen-rebalancing"
val local = "/dbfs" + base
val model = Paths.get(local, "model")
if (!Files.exists(model.resolve("config.json"))) {
  TinyModels.write("tiny", "mixtral", "f32", 11, model)
}
val driver = BatchGenDriverPlugin.active().orElseThrow()
println(s"executors with BatchGen: ${driver.executors().keySet().asScala.toSeq.sorted}")

// COMMAND ----------

val prompts = spark.range(48).selectExpr("id",
  "concat('prompt number ', id, ' about experts and batches') as prompt",
  "case when pmod(hash(id), 2) = 0 then 160 else 2 end as max_new_tokens")
val out = s"$base/rebalanced"
prompts.write.format("batchgen")
  .option("model", model.toString)
  .option("numPartitions", "2")
  .option("maxRunningSequences", "8")
  .mode("overwrite")
  .save(out)

// COMMAND ----------

// MAGIC %md
// MAGIC ## The moves

// COMMAND ----------

println(s"sequences moved: ${driver.migratedSequences()}")
driver.moves().asScala.foreach { m =>
  println(f"move ${m.moveId()}%d: ${m.from()} -> ${m.to()}, ${m.kind()}, ${m.sequences()}%d sequences, ${m.bytes()}%,d bytes, ${m.state()}")
}
val results = spark.read.parquet(out)
println(s"rows: ${results.count()}, distinct ids: ${results.select("id").distinct().count()}, errors: ${results.where("error is not null").count()}")

// COMMAND ----------

// MAGIC %md
// MAGIC ## The job report
// MAGIC Its *Migrations* section draws what each executor sent and received and lists the moves.

// COMMAND ----------

displayHTML(new String(Files.readAllBytes(Paths.get(local, "rebalanced", "_batchgen_report.html")),
  "UTF-8"))
