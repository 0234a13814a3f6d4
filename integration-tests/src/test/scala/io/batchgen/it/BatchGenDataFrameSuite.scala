package io.batchgen.it

import io.batchgen.core.runtime.{GenerationRequest, RuntimeConfig, SequenceResult}
import io.batchgen.core.sampling.SamplingParams
import io.batchgen.engine.model.TinyModels
import io.batchgen.engine.run.Engine
import java.nio.file.{Files, Path}
import java.util.Comparator
import org.apache.spark.sql.{DataFrame, Row, SparkSession}
import org.scalatest.BeforeAndAfterAll
import org.scalatest.funsuite.AnyFunSuite
import org.scalatest.matchers.should.Matchers
import scala.collection.mutable
import scala.jdk.CollectionConverters._

/**
 * The batchgen source and sink used from Scala exactly as a notebook cell would: a session with
 * the plugin, prompts from Parquet, `df.write.format("batchgen")`, `spark.read.format("batchgen")`
 * and SQL over a temporary view, on local[2]. Greedy output is checked token for token against
 * the engine run alone.
 */
class BatchGenDataFrameSuite extends AnyFunSuite with BeforeAndAfterAll with Matchers {
  private val MaxNew = 6
  private val dir: Path = Files.createTempDirectory("batchgen-dataframe-suite")
  private val modelPath: String =
    TinyModels.write("tiny", "mixtral", "f32", 11, dir.resolve("model")).toString
  private val promptRows: Seq[(Long, String)] = Seq(
    1L -> "the quick brown fox",
    2L -> "expert routing in a mixture of experts",
    3L -> "spark",
    4L -> "ünïcödé prompts and 数据 work too",
    5L -> "batch the tokens of every sequence that waits for the same expert",
    6L -> "cache layer model prompt token")
  private val promptsPath: String = dir.resolve("prompts.parquet").toString
  private var spark: SparkSession = _
  private var expected: Map[Long, Seq[Int]] = _

  override def beforeAll(): Unit = {
    expected = engineOnly(promptRows, MaxNew)
    spark = SparkSession.builder()
      .master("local[2]")
      .appName("batchgen-dataframe-suite")
      .config("spark.ui.enabled", "false")
      .config("spark.sql.shuffle.partitions", "2")
      .config("spark.plugins", "io.batchgen.spark.BatchGenPlugin")
      .config("spark.batchgen.runtime.kvCacheBudget", "64m")
      .getOrCreate()
    val session = spark
    import session.implicits._
    promptRows.toDF("id", "prompt").repartition(2).write.mode("overwrite").parquet(promptsPath)
  }

  override def afterAll(): Unit = {
    try {
      if (spark != null) spark.stop()
    } finally {
      Files.walk(dir).sorted(Comparator.reverseOrder[Path]()).forEach(p => Files.delete(p))
    }
  }

  test("df.write.format(\"batchgen\") writes one completion per prompt, as the engine alone") {
    val out = dir.resolve("completions").toString
    val prompts = spark.read.parquet(promptsPath)
    prompts.write.format("batchgen")
      .option("model", modelPath)
      .option("backend", "cpu")
      .option("maxNewTokens", MaxNew)
      .option("includeTokenIds", true)
      .mode("overwrite")
      .save(out)

    val completions = spark.read.parquet(out)
    completions.columns should contain allOf ("id", "completion", "completion_tokens", "finish_reason")
    tokensById(completions) shouldBe expected
    completions.where("finish_reason NOT IN ('stop', 'length')").count() shouldBe 0
    Files.exists(Path.of(out, "_SUCCESS")) shouldBe true
  }

  test("append adds rows, overwrite replaces them") {
    val out = dir.resolve("modes").toString
    val prompts = spark.read.parquet(promptsPath)
    def write(df: DataFrame, mode: String): Unit =
      df.write.format("batchgen").option("model", modelPath).option("maxNewTokens", 2)
        .mode(mode).save(out)

    write(prompts, "append")
    write(prompts, "append")
    spark.read.parquet(out).groupBy("id").count().collect().map(r => r.getLong(1)).toSet shouldBe
      Set(2L)
    write(prompts.where("id <= 2"), "overwrite")
    spark.read.parquet(out).select("id").collect().map(_.getLong(0)).sorted shouldBe Array(1L, 2L)
  }

  test("spark.read.format(\"batchgen\") completes a prompt table") {
    val completions = spark.read.format("batchgen")
      .option("model", modelPath)
      .option("prompts", promptsPath)
      .option("backend", "cpu")
      .option("maxNewTokens", MaxNew)
      .option("includeTokenIds", true)
      .load()
    completions.schema.fieldNames should contain ("completion_token_ids")
    tokensById(completions) shouldBe expected
  }

  test("SQL over a temporary view of the source") {
    spark.sql(
      s"""CREATE OR REPLACE TEMPORARY VIEW completions USING batchgen OPTIONS (
         |  model '$modelPath', prompts '$promptsPath', backend 'cpu', maxNewTokens '$MaxNew',
         |  includeTokenIds 'true')""".stripMargin)
    val perReason = spark.sql(
      "SELECT finish_reason, count(*) AS n, sum(completion_tokens) AS tokens " +
        "FROM completions GROUP BY finish_reason").collect()
    perReason.map(_.getLong(1)).sum shouldBe promptRows.size
    perReason.map(_.getLong(2)).sum shouldBe expected.values.map(_.size).sum
    tokensById(spark.sql("SELECT id, completion_token_ids FROM completions")) shouldBe expected
  }

  /** id -> completion token ids; fails when an id appears twice. */
  private def tokensById(df: DataFrame): Map[Long, Seq[Int]] = {
    val rows: Array[Row] = df.select("id", "completion_token_ids").collect()
    val byId = rows.map(r => r.getLong(0) -> r.getSeq[Int](1).toSeq).toMap
    withClue("ids repeated: ") { byId.size shouldBe rows.length }
    byId
  }

  /** Greedy completions by the engine in this JVM, no Spark. */
  private def engineOnly(prompts: Seq[(Long, String)], maxNew: Int): Map[Long, Seq[Int]] = {
    val out = mutable.Map[Long, Seq[Int]]()
    val engine = Engine.open(Path.of(modelPath), "cpu", 1, RuntimeConfig.defaults())
    try {
      val requests = prompts.map { case (id, prompt) =>
        new GenerationRequest(id.toString, engine.tokenizer().encode(prompt),
          SamplingParams.greedy(maxNew))
      }
      engine.generate(requests.asJava, 16,
        (r: SequenceResult) => out(r.id().toLong) = r.tokens().toSeq)
    } finally {
      engine.close()
    }
    out.toMap
  }
}
