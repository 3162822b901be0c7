import io
import json
import logging

from config.logging import BatchingStreamHandler, JsonFormatter


def make_logger(stream: io.StringIO, name: str) -> tuple[logging.Logger, BatchingStreamHandler]:
    handler = BatchingStreamHandler(stream, flush_interval_s=3600)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(name)
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, handler


def test_info_lines_wait_for_the_next_flush_and_keep_their_order() -> None:
    stream = io.StringIO()
    logger, handler = make_logger(stream, "ludex.test.batching")
    for i in range(5):
        logger.info("line %d", i, extra={"requestId": f"r{i}"})
    assert stream.getvalue() == ""
    handler.flush()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(line["message"], line["requestId"]) for line in lines] == [(f"line {i}", f"r{i}") for i in range(5)]


def test_a_warning_is_written_at_once_with_the_lines_before_it() -> None:
    stream = io.StringIO()
    logger, _ = make_logger(stream, "ludex.test.warning")
    logger.info("before")
    logger.warning("trouble")
    assert [json.loads(line)["message"] for line in stream.getvalue().splitlines()] == ["before", "trouble"]


def test_a_full_batch_is_written_without_waiting() -> None:
    stream = io.StringIO()
    logger, handler = make_logger(stream, "ludex.test.full")
    handler.max_lines = 3
    for i in range(3):
        logger.info("n%d", i)
    assert len(stream.getvalue().splitlines()) == 3
