"""The embedded broker never hands a consumer a message that is still being written."""

from __future__ import annotations

import threading

from kombu import Connection

from config.broker import Transport

MESSAGES = 3000


def test_a_consumer_polling_beside_a_producer_reads_every_message_whole(tmp_path):
    options = {
        "data_folder_in": str(tmp_path),
        "data_folder_out": str(tmp_path),
        "control_folder": str(tmp_path / "control"),
        "store_processed": False,
    }
    received: list[int] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def consume() -> None:
        with Connection(transport=Transport, transport_options=options) as connection:
            queue = connection.SimpleQueue("q")
            while len(received) < MESSAGES and not done.is_set():
                try:
                    message = queue.get(timeout=5)
                except queue.Empty:
                    break
                except Exception as exc:  # what kombu's own transport raises: JSONDecodeError
                    errors.append(exc)
                    break
                received.append(message.payload["n"])
                message.ack()

    consumer = threading.Thread(target=consume)
    consumer.start()
    with Connection(transport=Transport, transport_options=options) as connection:
        queue = connection.SimpleQueue("q")
        for n in range(MESSAGES):
            queue.put({"n": n, "pad": "x" * 4000})
    consumer.join(timeout=60)
    done.set()
    assert errors == []
    assert sorted(received) == list(range(MESSAGES))
