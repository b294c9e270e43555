"""Write eventsync events from Python: one outbox row per event, in the caller's own transaction.

The rules are in docs/outbox-contract.md. Needs protobuf (Debian: python3-protobuf) and, for the
example below, psycopg2 (python3-psycopg2). Generate the envelope module with
    protoc -I <eventsync>/eventsync-core/src/main/proto --python_out=OUT eventsync/v1/envelope.proto
and your payload modules the same way; put OUT on sys.path.
"""
import time
import uuid

from eventsync.v1 import envelope_pb2

SPEC_VERSION = "1.0"
TYPE_URL_PREFIX = "type.googleapis.com/"
# Room the relay keeps for the position it adds; the transports' default limit is 1 MiB.
MAX_ENVELOPE_BYTES = 1024 * 1024 - 16


def uuid7():
    """A UUIDv7 (time-ordered), as eventsync's Java writer makes them."""
    ms = time.time_ns() // 1_000_000
    rand = uuid.uuid4().bytes
    b = bytearray(ms.to_bytes(6, "big") + rand[6:])
    b[6] = 0x70 | (b[6] & 0x0F)
    b[8] = 0x80 | (b[8] & 0x3F)
    return str(uuid.UUID(bytes=bytes(b)))


def envelope(source, subject, sequence, payload, partition_key="", tombstone=False, attributes=None):
    """A valid envelope: id, source, type (the payload's full name), subject, time, specversion, sequence."""
    if sequence < 1:
        raise ValueError("sequence must be >= 1 (the per-subject version), was %d" % sequence)
    e = envelope_pb2.Envelope()
    e.id = uuid7()
    e.source = source
    e.type = payload.DESCRIPTOR.full_name
    e.subject = subject
    e.time.GetCurrentTime()
    e.specversion = SPEC_VERSION
    e.sequence = sequence
    e.partition_key = partition_key
    e.tombstone = tombstone
    e.payload.Pack(payload, type_url_prefix=TYPE_URL_PREFIX)
    for k, v in (attributes or {}).items():
        e.attributes[k] = v
    return e


def append(cursor, schema, source, event, prefix="eventsync_", notify=True):
    """Inserts the event's outbox row on the caller's cursor; commits nothing. Returns the row id."""
    data = event.SerializeToString()
    if len(data) > MAX_ENVELOPE_BYTES:
        raise ValueError("event %s is %d bytes, over the outbox limit of %d" % (event.id, len(data), MAX_ENVELOPE_BYTES))
    key = event.partition_key or event.subject
    cursor.execute(
        'INSERT INTO "%s"."%soutbox" (source, event_id, subject, event_type, event_sequence, payload)'
        " VALUES (%%s, %%s, %%s, %%s, %%s, %%s) RETURNING id" % (schema, prefix),
        (source, event.id, key, event.type, event.sequence, data))
    row_id = cursor.fetchone()[0]
    if notify:
        # Wakes the relay at commit (optional: it also polls). The schema's function knows the channel
        # the relay listens on; a schema installed before it existed has none (the relay then polls, or
        # use the derivation in the contract), and calling a missing function would abort the transaction.
        function = '"%s"."%snotify"' % (schema, prefix)
        cursor.execute("SELECT to_regprocedure(%s) IS NOT NULL", (function + "(text)",))
        if cursor.fetchone()[0]:
            cursor.execute("SELECT %s(%%s)" % function, (source,))
    return row_id
