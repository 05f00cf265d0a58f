"""The embedded broker never hands a consumer a message that is still being written."""

from __future__ import annotations

import threading

from kombu import Connection, Exchange, Queue

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
    # The producer publishes as the web process sends a task: a producer only. (A SimpleQueue here
    # would also start a consumer of "q" on this connection, which takes some of the messages.)
    with Connection(transport=Transport, transport_options=options) as connection:
        target = Queue("q", Exchange("q"), routing_key="q")
        producer = connection.Producer()
        for n in range(MESSAGES):
            message = {"n": n, "pad": "x" * 4000}
            producer.publish(message, exchange=target.exchange, routing_key="q", declare=[target])
    consumer.join(timeout=60)
    done.set()
    assert errors == []
    assert sorted(received) == list(range(MESSAGES))


def _table_race(channel_class: type, tmp_path) -> list[BaseException]:
    """One thread creates exchange tables while another reads each as soon as its file exists."""
    options = {
        "data_folder_in": str(tmp_path),
        "data_folder_out": str(tmp_path),
        "control_folder": str(tmp_path / "control"),
    }
    errors: list[BaseException] = []
    names = [f"x{n}" for n in range(400)]

    class RaceTransport(Transport):
        Channel = channel_class

    with Connection(transport=RaceTransport, transport_options=options) as connection:
        writer, reader = (
            connection.channel(),
            Connection(transport=RaceTransport, transport_options=options).channel(),
        )

        def read() -> None:
            for name in names:
                path = tmp_path / "control" / f"{name}.exchange"
                while not path.exists():
                    pass
                try:
                    assert reader.get_table(name) == [("key", "", name)]
                except Exception as exc:  # an empty table read while it was being written
                    errors.append(exc)

        thread = threading.Thread(target=read)
        thread.start()
        for name in names:
            writer._queue_bind(name, "key", None, name)
        thread.join(timeout=60)
    return errors


def test_an_exchange_table_is_never_read_half_written(tmp_path):
    assert _table_race(Transport.Channel, tmp_path) == []
