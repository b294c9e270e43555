package io.eventsync.bench;

import com.google.protobuf.Descriptors.Descriptor;
import java.sql.Connection;
import java.sql.PreparedStatement;

/**
 * The floor of the writers' cost: no event at all in the business transaction; after its commit the
 * writer upserts the copy itself (version guard, its own commit on the copy). Not a way to keep copies
 * consistent (a crash between the two commits loses the copy write), only what the cheapest writer pays.
 */
final class DualWrite {
    private DualWrite() {
    }

    static DebeziumCopy.Closing pipeline(EndToEndRig rig, EndToEndRig.Pools pools) throws Exception {
        DebeziumCopy.createCopyTable(pools.copy());
        Descriptor type = rig.accountType();
        EndToEndRig.Pipeline pipeline = new EndToEndRig.Pipeline() {
            @Override
            public EndToEndRig.EventWrite write() {
                return new EndToEndRig.EventWrite() {
                    @Override
                    public void append(Connection c, io.eventsync.v1.Envelope event, com.google.protobuf.DynamicMessage account) {
                        // nothing in the source transaction
                    }

                    @Override
                    public void committed(io.eventsync.v1.Envelope event, com.google.protobuf.DynamicMessage account)
                            throws java.sql.SQLException {
                        try (Connection c = pools.copy().getConnection();
                             PreparedStatement upsert = c.prepareStatement(DebeziumCopy.UPSERT)) {
                            upsert.setString(1, event.getSubject());
                            upsert.setLong(2, (Long) account.getField(type.findFieldByName("balance")));
                            upsert.setString(3, (String) account.getField(type.findFieldByName("owner")));
                            upsert.setLong(4, event.getSequence());
                            upsert.executeUpdate(); // auto-commit: one copy commit per write
                        }
                        rig.copyCommitted(event.getId());
                    }
                };
            }

            @Override
            public void awaitPublished(long written) {
            }

            @Override
            public AutoCloseable startConsumer() {
                return () -> { };
            }
        };
        return new DebeziumCopy.Closing(pipeline, () -> { });
    }

    /**
     * The writers' ceiling: the business transaction alone, no event and no copy. An event counts as
     * "applied" at its source commit, so the phases run unchanged; only the writers' rate means anything.
     */
    static DebeziumCopy.Closing plain(EndToEndRig rig, EndToEndRig.Pools pools) {
        EndToEndRig.Pipeline pipeline = new EndToEndRig.Pipeline() {
            @Override
            public EndToEndRig.EventWrite write() {
                return new EndToEndRig.EventWrite() {
                    @Override
                    public void append(Connection c, io.eventsync.v1.Envelope event, com.google.protobuf.DynamicMessage account) {
                        // nothing in the source transaction
                    }

                    @Override
                    public void committed(io.eventsync.v1.Envelope event, com.google.protobuf.DynamicMessage account) {
                        rig.copyCommitted(event.getId());
                    }
                };
            }

            @Override
            public void awaitPublished(long written) {
            }

            @Override
            public AutoCloseable startConsumer() {
                return () -> { };
            }
        };
        return new DebeziumCopy.Closing(pipeline, () -> { });
    }
}
