"""Example and test writer: changes accounts in a business table and writes their events, one
transaction per change. Usage: write_accounts.py DSN SCHEMA SOURCE ACCOUNTS CHANGES [PROTO_OUT]"""
import random
import sys

sys.path.insert(0, sys.argv[6] if len(sys.argv) > 6 else ".")

import psycopg2  # noqa: E402

import eventsync_outbox  # noqa: E402
from eventsync.jdbctest import accounts_pb2  # noqa: E402


def main():
    dsn, schema, source = sys.argv[1], sys.argv[2], sys.argv[3]
    accounts, changes = int(sys.argv[4]), int(sys.argv[5])
    rng = random.Random(7)
    conn = psycopg2.connect(dsn)
    versions = {}
    for _ in range(changes):
        account = "py-%d" % rng.randrange(accounts)
        version = versions.get(account, 0) + 1
        versions[account] = version
        balance = rng.randrange(1_000_000)
        payload = accounts_pb2.AccountChanged(account_id=account, balance_cents=balance, active=True)
        with conn:  # one transaction: the business row and its event commit together
            with conn.cursor() as cur:
                cur.execute('INSERT INTO "%s".accounts (account_id, balance_cents, version) VALUES (%%s, %%s, %%s)'
                            " ON CONFLICT (account_id) DO UPDATE SET balance_cents = EXCLUDED.balance_cents,"
                            " version = EXCLUDED.version" % schema, (account, balance, version))
                eventsync_outbox.append(cur, schema, source,
                                        eventsync_outbox.envelope(source, account, version, payload))
    conn.close()
    print("wrote %d events for %d accounts" % (changes, len(versions)))


if __name__ == "__main__":
    main()
