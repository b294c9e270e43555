'use strict';
// Write eventsync events from Node: one outbox row per event, in the caller's own transaction.
// The rules are in docs/outbox-contract.md. Needs the npm packages protobufjs and pg (npm ci here).
const crypto = require('crypto');
const path = require('path');
const protobuf = require('protobufjs');

const SPEC_VERSION = '1.0';
const TYPE_URL_PREFIX = 'type.googleapis.com/';
// Room the relay keeps for the position it adds; the transports' default limit is 1 MiB.
const MAX_ENVELOPE_BYTES = 1024 * 1024 - 16;

/** Loads the envelope and the payload .proto files; include dirs resolve their imports. */
async function load(includeDirs, files) {
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) => {
    for (const dir of includeDirs) {
      const candidate = path.join(dir, target);
      try {
        require('fs').accessSync(candidate);
        return candidate;
      } catch (e) { /* next */ }
    }
    return protobuf.util.path.resolve(origin, target);
  };
  await root.load(['eventsync/v1/envelope.proto', ...files], { keepCase: true });
  return root;
}

/** A UUIDv7 (time-ordered), as eventsync's Java writer makes them. */
function uuid7() {
  const b = crypto.randomBytes(16);
  const ms = BigInt(Date.now());
  for (let i = 0; i < 6; i++) {
    b[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
  }
  b[6] = 0x70 | (b[6] & 0x0f);
  b[8] = 0x80 | (b[8] & 0x3f);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A valid envelope: id, source, type (the payload's full name), subject, time, specversion, sequence. */
function envelope(root, { source, subject, sequence, payloadType, payload, partitionKey = '', tombstone = false }) {
  if (!(sequence >= 1)) {
    throw new Error(`sequence must be >= 1 (the per-subject version), was ${sequence}`);
  }
  const Type = root.lookupType(payloadType);
  const problem = Type.verify(payload);
  if (problem) {
    throw new Error(`payload is not a valid ${payloadType}: ${problem}`);
  }
  const now = Date.now();
  const Envelope = root.lookupType('eventsync.v1.Envelope');
  return Envelope.create({
    id: uuid7(),
    source,
    type: payloadType,
    subject,
    time: { seconds: Math.floor(now / 1000), nanos: (now % 1000) * 1e6 },
    specversion: SPEC_VERSION,
    sequence,
    partition_key: partitionKey,
    tombstone,
    payload: { type_url: TYPE_URL_PREFIX + payloadType, value: Type.encode(Type.create(payload)).finish() },
  });
}

/** Inserts the event's outbox row on the caller's client, inside its transaction; returns the row id. */
async function append(client, root, schema, source, event, { prefix = 'eventsync_', notify = true } = {}) {
  const Envelope = root.lookupType('eventsync.v1.Envelope');
  const bytes = Buffer.from(Envelope.encode(event).finish());
  if (bytes.length > MAX_ENVELOPE_BYTES) {
    throw new Error(`event ${event.id} is ${bytes.length} bytes, over the outbox limit of ${MAX_ENVELOPE_BYTES}`);
  }
  const key = event.partition_key || event.subject;
  const res = await client.query(
    `INSERT INTO "${schema}"."${prefix}outbox" (source, event_id, subject, event_type, event_sequence, payload)`
      + ' VALUES ($1, $2, $3, $4, $5, $6) RETURNING id',
    [source, event.id, key, event.type, event.sequence, bytes]);
  if (notify) {
    // Wakes the relay at commit (optional: it also polls). The schema's function knows the channel the
    // relay listens on; a schema installed before it existed has none (the relay then polls, or use the
    // derivation in the contract), and calling a missing function would abort the transaction.
    const fn = `"${schema}"."${prefix}notify"`;
    const exists = await client.query('SELECT to_regprocedure($1) IS NOT NULL AS present', [`${fn}(text)`]);
    if (exists.rows[0].present) {
      await client.query(`SELECT ${fn}($1)`, [source]);
    }
  }
  return res.rows[0].id;
}

module.exports = { load, uuid7, envelope, append, SPEC_VERSION, MAX_ENVELOPE_BYTES };
