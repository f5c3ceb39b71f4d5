import type { MessageInitShape } from "@bufbuild/protobuf";
import type { PlatformClient } from "./client.js";
import type { Pipeline } from "./gen/polysync/platform/v1/pipeline_pb.js";
import type { PipelineRun } from "./gen/polysync/platform/v1/pipeline_run_pb.js";
import type {
  ListPipelineRunsRequestSchema,
  ListPipelinesRequestSchema,
} from "./gen/polysync/platform/v1/platform_service_pb.js";

/** Options of the paging iterators. */
export interface PagingOptions {
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

function callOptions({ signal, headers }: PagingOptions) {
  return { ...(signal ? { signal } : {}), ...(headers ? { headers } : {}) };
}

/** Every pipeline of ListPipelines (with the request's filters and page size), following next_page_token. */
export async function* listPipelines(
  client: Pick<PlatformClient, "listPipelines">,
  request: MessageInitShape<typeof ListPipelinesRequestSchema> = {},
  options: PagingOptions = {},
): AsyncGenerator<Pipeline, void, undefined> {
  let pageToken = request.pageToken ?? "";
  do {
    const page = await client.listPipelines({ ...request, pageToken }, callOptions(options));
    yield* page.pipelines;
    pageToken = page.nextPageToken;
  } while (pageToken !== "");
}

/** Every run of ListPipelineRuns (with the request's filters and page size), following next_page_token. */
export async function* listRuns(
  client: Pick<PlatformClient, "listPipelineRuns">,
  request: MessageInitShape<typeof ListPipelineRunsRequestSchema> = {},
  options: PagingOptions = {},
): AsyncGenerator<PipelineRun, void, undefined> {
  let pageToken = request.pageToken ?? "";
  do {
    const page = await client.listPipelineRuns({ ...request, pageToken }, callOptions(options));
    yield* page.runs;
    pageToken = page.nextPageToken;
  } while (pageToken !== "");
}
