"""Celery's filesystem broker (the embedded default), with messages that appear whole and are never dropped.

kombu's filesystem transport creates a file and then writes it, for messages
and for an exchange's table of bound queues alike; a reader between the two
reads it empty and stops the worker ("Unrecoverable error: JSONDecodeError").
Here both appear whole: a message is written under a name no queue reads and
renamed into place, and a new exchange table is written aside and linked into
place only if no other process created it first (rename and link are atomic on
one file system).

kombu also keeps one record of the bindings per process, for every folder, and
trusts it over the table on disk: a publish finds its queue in the exchange's
table, and a message whose table is empty is dropped without a word. So a
second broker folder in one process (the tests, a management command) never got
its tables, a table removed while the process ran was never written again, and
a thread publishing while another was still binding the same queue lost its
messages. Here the record is per control folder, a bind finishes before another
thread relies on it, and a table missing on disk is written again from the
bindings this process declared.
"""

from __future__ import annotations

import os
import threading
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem, virtual
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

_STATES: dict[str, virtual.BrokerState] = {}
_STATES_LOCK = threading.Lock()
_BIND_LOCK = threading.RLock()


class Channel(filesystem.Channel):
    # kombu's own filesystem Channel renames the base's `message` to `payload`: no signature fits both.
    def _put(self, queue: Any, payload: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = final + ".part"  # "<id>.<queue>.msg.part": not a message of any queue
        try:
            with open(partial, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc

    def queue_bind(
        self, queue: Any, exchange: Any = None, routing_key: Any = "", arguments: Any = None, **kwargs: Any
    ) -> Any:
        exchange = exchange or "amq.direct"
        with _BIND_LOCK:
            if not self.state.has_binding(queue, exchange, routing_key):
                return super().queue_bind(queue, exchange, routing_key, arguments, **kwargs)
            # Declared before in this process: make sure the table on disk still holds it.
            meta = self.typeof(exchange).prepare_bind(queue, exchange, routing_key, arguments)
            self._queue_bind(exchange, *meta)
            return None

    def get_table(self, exchange: Any) -> Any:
        table = super().get_table(exchange)
        if table:
            return table
        with _BIND_LOCK:  # a bind under way in another thread finishes first
            table = super().get_table(exchange)
            if table:
                return table
            declared = [
                self.typeof(exchange).prepare_bind(key.queue, exchange, key.routing_key, arguments)
                for key, arguments in list(self.state.bindings.items())
                if key.exchange == exchange
            ]
            for meta in declared:  # the table went missing on disk: write it again
                self._queue_bind(exchange, *meta)
            return [filesystem.exchange_queue_t(*meta) for meta in declared]

    def _queue_bind(self, exchange: Any, routing_key: Any, pattern: Any, queue: Any) -> Any:
        table = self._exchange_file(exchange)
        if not table.exists():
            self.control_folder.mkdir(parents=True, exist_ok=True)
            entry = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
            partial = table.with_name(f".{table.name}.{uuid.uuid4()}.part")
            try:
                partial.write_bytes(str_to_bytes(dumps([entry])))
                os.link(partial, table)  # fails if another process created the table meanwhile
                return None
            except FileExistsError:
                pass  # bind into the table that now exists, under kombu's lock
            except OSError as exc:
                raise ChannelError(f"Cannot create {table}") from exc
            finally:
                partial.unlink(missing_ok=True)
        return super()._queue_bind(exchange, routing_key, pattern, queue)


class Transport(filesystem.Transport):
    Channel = Channel

    def __init__(self, client: Any, **kwargs: Any) -> None:
        super().__init__(client, **kwargs)
        folder = os.path.abspath(str(client.transport_options.get("control_folder", "control")))
        with _STATES_LOCK:  # one record of exchanges and bindings per broker folder, not per process
            self.state = _STATES.setdefault(folder, virtual.BrokerState())
