"""Lambda handler of the scheduler's stream function: the table's DynamoDB stream, in batches.

Powertools' batch processor reports partial failures (`batchItemFailures` with the failed
record's sequence number), so Lambda retries from the first failure instead of the whole batch;
with `BisectBatchOnFunctionError` a poison record is isolated. Every job is idempotent.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from slipstream.core.logging import logger
from slipstream.scheduler.stream import Job, job_for

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    done: set[Job] = set()

    def record_handler(record: DynamoDBRecord) -> None:
        change = record.dynamodb
        if change is None:
            return
        job = job_for(
            str(record.event_name.name if record.event_name else ""),
            change.keys or {},
            change.old_image or {},
            change.new_image or {},
        )
        if job is None or job in done:
            return
        job.run()
        done.add(job)

    return dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    )
