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


def _options(folder) -> dict:
    return {
        "data_folder_in": str(folder),
        "data_folder_out": str(folder),
        "control_folder": str(folder / "control"),
    }


def _publish(options: dict, count: int, transport: type = Transport) -> None:
    with Connection(transport=transport, transport_options=options) as connection:
        target = Queue("q", Exchange("q"), routing_key="q")
        producer = connection.Producer()
        for n in range(count):
            producer.publish({"n": n}, exchange=target.exchange, routing_key="q", declare=[target])


def _messages(folder) -> int:
    return len(list(folder.glob("*.q.msg")))


def test_a_second_broker_folder_in_one_process_gets_its_messages(tmp_path):
    # kombu kept one record of bindings per process: the second folder never got its exchange
    # table, and every message sent to it was dropped without a word.
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    _publish(_options(first), 3)
    _publish(_options(second), 3)
    assert (_messages(first), _messages(second)) == (3, 3)
    assert (second / "control" / "q.exchange").exists()


def test_an_exchange_table_removed_while_a_process_runs_is_written_again(tmp_path):
    options = _options(tmp_path)
    with Connection(transport=Transport, transport_options=options) as connection:
        target = Queue("q", Exchange("q"), routing_key="q")
        producer = connection.Producer()
        producer.publish({"n": 0}, exchange=target.exchange, routing_key="q", declare=[target])
        (tmp_path / "control" / "q.exchange").unlink()  # someone cleared the broker's folder
        producer.publish({"n": 1}, exchange=target.exchange, routing_key="q", declare=[target])
    assert _messages(tmp_path) == 2
    assert (tmp_path / "control" / "q.exchange").exists()


def test_a_thread_that_publishes_while_another_binds_the_queue_loses_nothing(tmp_path):
    # One thread has recorded the binding but not yet written the table when a second thread
    # publishes: kombu's record said "bound", the table on disk was empty, the message was dropped.
    options = _options(tmp_path)
    binding, published = threading.Event(), threading.Event()

    class SlowChannel(Transport.Channel):
        def _queue_bind(self, *args, **kwargs):
            if threading.current_thread().name == "binder":
                binding.set()
                published.wait(timeout=1)  # give the other thread its chance to publish first
            return super()._queue_bind(*args, **kwargs)

    class SlowTransport(Transport):
        Channel = SlowChannel

    def bind() -> None:
        with Connection(transport=SlowTransport, transport_options=options) as connection:
            Queue("q", Exchange("q"), routing_key="q")(connection.channel()).declare()

    binder = threading.Thread(target=bind, name="binder")
    binder.start()
    assert binding.wait(timeout=10)
    _publish(options, 5, transport=SlowTransport)
    published.set()
    binder.join(timeout=10)
    assert _messages(tmp_path) == 5
