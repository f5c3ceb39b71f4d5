package io.polysync.platform.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.util.JsonFormat;
import io.polysync.platform.v1.PipelineRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every case of clients/explain-failure.json: the run in the proto's JSON mapping (parsed with
 * protobuf's JsonFormat), then {@link Runs#explainFailure}'s exact text.
 */
class ExplainFailureTest {
  @TestFactory
  Stream<DynamicTest> cases() throws Exception {
    Path file = Path.of(System.getProperty("polysync.repo.root", "../..")).resolve("clients/explain-failure.json");
    assumeTrue(Files.exists(file), "clients/explain-failure.json is not here: built outside the repository");
    JsonObject table = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
    List<JsonElement> cases = StreamSupport.stream(table.getAsJsonArray("cases").spliterator(), false).toList();
    return cases.stream().map(JsonElement::getAsJsonObject).map(entry -> DynamicTest.dynamicTest(
        entry.get("name").getAsString(), () -> {
          PipelineRun.Builder run = PipelineRun.newBuilder();
          JsonFormat.parser().merge(entry.get("run").toString(), run);
          assertEquals(entry.get("text").getAsString(), Runs.explainFailure(run.build()));
        }));
  }
}
