'use strict';
// Example and test writer: changes accounts in a business table and writes their events, one
// transaction per change. Usage: node write_accounts.js DSN SCHEMA SOURCE ACCOUNTS CHANGES PROTO_DIR...
const { Client } = require('pg');
const outbox = require('./outbox');

async function main() {
  const [dsn, schema, source, accounts, changes, ...protoDirs] = process.argv.slice(2);
  const root = await outbox.load(protoDirs, ['eventsync/jdbctest/accounts.proto']);
  const client = new Client({ connectionString: dsn });
  await client.connect();
  const versions = new Map();
  let seed = 11;
  const next = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return Math.floor((seed / 2147483648) * n); };
  for (let i = 0; i < Number(changes); i++) {
    const account = `js-${next(Number(accounts))}`;
    const version = (versions.get(account) || 0) + 1;
    versions.set(account, version);
    const balance = next(1000000);
    await client.query('BEGIN'); // the business row and its event commit together
    try {
      await client.query(`INSERT INTO "${schema}".accounts (account_id, balance_cents, version) VALUES ($1, $2, $3)`
        + ' ON CONFLICT (account_id) DO UPDATE SET balance_cents = EXCLUDED.balance_cents, version = EXCLUDED.version',
      [account, balance, version]);
      const event = outbox.envelope(root, {
        source, subject: account, sequence: version, payloadType: 'eventsync.jdbctest.AccountChanged',
        payload: { account_id: account, balance_cents: balance, active: true },
      });
      await outbox.append(client, root, schema, source, event);
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK');
      throw e;
    }
  }
  await client.end();
  console.log(`wrote ${changes} events for ${versions.size} accounts`);
}

main().catch((e) => { console.error(e.stack || String(e)); process.exit(1); });
