package io.eventsync.jdbc;

import com.google.protobuf.Any;
import com.google.protobuf.Timestamp;
import io.eventsync.jdbc.test.AccountChanged;
import io.eventsync.jdbc.test.AccountStatus;
import io.eventsync.jdbc.test.Owner;
import io.eventsync.v1.Envelope;
import java.util.UUID;

/** Test events about accounts, built directly (no codec needed). */
final class Accounts {
    private Accounts() {}

    static final String SOURCE = "accounts";

    static AccountChanged account(String id, long balance) {
        return AccountChanged.newBuilder()
                .setAccountId(id)
                .setBalanceCents(balance)
                .setOwner(Owner.newBuilder().setId("o-" + id).setName("Owner " + id))
                .setActive(true)
                .setSecretNote("never copied")
                .setOpened(Timestamp.newBuilder().setSeconds(1_700_000_000L).setNanos(123_000_000))
                .setStatus(AccountStatus.OPEN)
                .build();
    }

    static Envelope event(AccountChanged payload, long sequence, long position) {
        return Envelope.newBuilder()
                .setId(UUID.randomUUID().toString())
                .setSource(SOURCE)
                .setType(AccountChanged.getDescriptor().getFullName())
                .setSubject(payload.getAccountId())
                .setSpecversion("1.0")
                .setSequence(sequence)
                .setPosition(position)
                .setTime(Timestamp.newBuilder().setSeconds(System.currentTimeMillis() / 1000))
                .setPayload(Any.pack(payload))
                .build();
    }

    static Envelope tombstone(AccountChanged last, long sequence, long position) {
        return event(last, sequence, position).toBuilder().setTombstone(true).build();
    }

    static CopyTable copyTable() {
        return CopyTable.builder(AccountChanged.getDescriptor(), "accounts_copy")
                .key("account_id", "account_id")
                .column("balance_cents")
                .column("owner_name", "owner.name")
                .column("active")
                .column("opened")
                .column("status")
                .versionColumn("version")
                .build();
    }
}
