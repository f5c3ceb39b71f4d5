"""ListPipelines and GetPipeline: job definitions, one per name at its highest ACTIVE revision."""

from __future__ import annotations

from polysync_batch.domain import errors, paging, requests
from polysync_batch.domain.models import Pipeline, PlatformInfo
from polysync_batch.domain.pipelines import parse_pipeline_ref
from polysync_batch.service.ports import BatchPort


class PipelineService:
    def __init__(self, info: PlatformInfo, batch: BatchPort) -> None:
        self._info = info
        self._batch = batch

    async def list(self, page_size: int, page_token: str, name_prefix: str) -> tuple[list[Pipeline], str]:
        size = requests.check_page_size(page_size)
        filters = {"prefix": name_prefix, "pl": self._info.name}
        state = paging.decode(page_token, filters) or {"after": ""}
        found = [p for p in await self._batch.pipelines() if p.name.startswith(name_prefix) and p.name > state["after"]]
        page = found[:size]
        next_token = paging.encode({"after": page[-1].name}, filters) if len(found) > size else ""
        return page, next_token

    async def get(self, pipeline: str) -> Pipeline:
        """The ACTIVE definition a name (latest revision), `name:revision` or ARN stands for."""
        requests.check_pipeline(pipeline)
        ref = parse_pipeline_ref(pipeline)
        assert ref is not None  # checked above
        found = await self._batch.pipelines(ref.name, ref.revision)
        if not found:
            raise errors.job_definition_not_found(pipeline, self._info.region, self._info.name)
        return found[0]
