package io.eventsync.jdbc;

import io.eventsync.ConfigException;
import io.eventsync.EventsyncException;
import io.eventsync.PermanentException;
import io.eventsync.dispatch.ApplyScope;
import io.eventsync.dispatch.DeadLetterStore;
import io.eventsync.dispatch.Invocation;
import io.eventsync.dispatch.KeyParkedException;
import io.eventsync.handler.Outcome;
import io.eventsync.jdbc.internal.Dialect;
import io.eventsync.jdbc.internal.Pools;
import io.eventsync.jdbc.internal.SqlErrors;
import io.eventsync.v1.Envelope;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The apply path of a copy: one transaction in the copy's database per event.
 *
 * <ol>
 *   <li>insert the inbox row (subscription, event id, source, position); if it exists the event was
 *       applied before: roll back and return {@code Skipped("duplicate ...")} without calling the handler;</li>
 *   <li>bind the {@link Connection} for the handler ({@code context.resource(Connection.class)}) and run it;</li>
 *   <li>on {@code Applied}, write the follow-up events it emitted to this service's own outbox, on the
 *       same connection, so they exist if and only if the handler's changes commit;</li>
 *   <li>commit, unless the dispatcher abandoned the invocation; on an exception, {@code RetryAfter} or
 *       {@code Reject}, roll back (nothing of the attempt remains, the inbox row included).</li>
 * </ol>
 *
 * <p>An abandoned handler (one that ignored cancellation past its grace period) must never commit: the
 * scope registers an abort hook that aborts its connection ({@link Connection#abort}), and checks
 * {@link Invocation#abandoned()} right before committing. Should a late commit still slip between the
 * check and the abort, the unique inbox row makes the retry a duplicate, so the event is applied once.
 *
 * <p>The transport offset is not written here: lanes apply events of different keys out of offset
 * order, so an offset stored by one apply could pass an earlier event still in flight. The transport
 * stores its offset when the dispatcher acknowledges (contiguously); the inbox makes every redelivery
 * after a crash a counted, skipped duplicate.
 *
 * <p>Thread-safe; one instance serves every lane of a dispatcher. Close it to stop its abort executor.
 *
 * <p>Wiring a copy service on the embedded log (the CLI and the crash test do exactly this):
 * <pre>{@code
 * EmbeddedLog log = EmbeddedLog.builder().dataSource(sourceDb).names(sourceNames)
 *         .offsets(Offsets.in(copyDb, copyNames)).build();           // the group's offset in the copy's DB
 * Relay relay = Relay.builder().dataSource(sourceDb).names(sourceNames).source("accounts")
 *         .publisher(log.publisher("accounts")).build().start();    // in the source service
 * CopyTable accounts = CopyTable.builder(AccountChanged.getDescriptor(), "accounts_copy")
 *         .keyFromSubject("account_id").column("balance_cents").build();
 * accounts.createTable(copyDb);
 * Inbox inbox = Inbox.builder(copyDb).schema(copyNames).build();    // also serves awaitApplied
 * JdbcApplyScope scope = JdbcApplyScope.builder(inbox).outbox(Outbox.of("copy-service")).build();
 * Dispatcher dispatcher = Dispatcher.builder("accounts-copy")
 *         .handlers(accounts.registerOn(HandlerRegistry.builder(), HandlerOptions.defaults()).build())
 *         .types(TypeRegistry.builder().add(AccountChanged.getDefaultInstance()).build())
 *         .codec(EnvelopeCodec.defaults()).validator(EnvelopeValidator.defaults())
 *         .applyScope(scope).deadLetters(JdbcDeadLetters.create(copyDb, copyNames)).lanes(8).build();
 * log.subscribe(SubscriptionSpec.fanout("accounts", "accounts-copy"), dispatcher);
 * }</pre>
 */
public final class JdbcApplyScope implements ApplyScope, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(JdbcApplyScope.class);

    private final DataSource dataSource;
    private final Inbox inbox;
    private final FollowUps followUps;
    /** Checked inside the apply transaction for a parked key; null when not configured. */
    private final JdbcDeadLetters deadLetters;
    private final MeterRegistry meters;
    private final Map<String, Counter> duplicates = new ConcurrentHashMap<>();
    private final ExecutorService aborter;

    private JdbcApplyScope(Builder b) {
        this.inbox = b.inbox;
        this.dataSource = inbox.dataSource();
        this.followUps = b.followUps;
        this.deadLetters = b.deadLetters;
        this.meters = b.meters;
        AtomicInteger n = new AtomicInteger();
        this.aborter = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "eventsync-apply-abort-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** A scope applying to the database of {@code inbox}'s DataSource. */
    public static Builder builder(Inbox inbox) {
        return new Builder(inbox);
    }

    /**
     * Writes the follow-up events a handler emitted, in the apply transaction. Usually the service's
     * {@link Outbox} ({@link Builder#outbox}); without one, a handler that emits fails permanently
     * (dead letter) instead of losing its follow-ups.
     */
    @FunctionalInterface
    public interface FollowUps {
        void append(Connection connection, List<Envelope> events) throws SQLException;
    }

    /** True for the store given to {@link Builder#deadLetters}: this scope then checks parked keys itself. */
    @Override
    public boolean refusesParkedKeys(DeadLetterStore store) {
        return deadLetters != null && store == deadLetters;
    }

    @Override
    public Outcome apply(Invocation invocation) throws Exception {
        Envelope event = invocation.envelope();
        String subscription = invocation.subscription();
        Connection c = connect(event, subscription);
        boolean abandoned = false;
        try {
            invocation.onAbort(() -> abort(c, invocation));
            c.setAutoCommit(false);
            // The inbox first: an event applied before its key was parked (delivered again after a crash or a
            // takeover) is a duplicate, never a HELD letter behind a later version of its key.
            if (!inbox.record(c, subscription, event)) {
                c.rollback();
                duplicates(subscription).increment();
                log.debug("duplicate event {} subject {} in subscription {}: already applied, handler not called",
                        event.getId(), event.getSubject(), subscription);
                return Outcome.skipped("duplicate: event " + event.getId() + " was already applied in subscription "
                        + subscription);
            }
            if (deadLetters != null && !invocation.replaying() && deadLetters.isParked(c, subscription, invocation.key())) {
                c.rollback(); // parked, maybe by another instance: the dispatcher holds the event instead
                throw new KeyParkedException(subscription, invocation.key());
            }
            invocation.bind(Connection.class, c);
            Outcome outcome = invocation.proceed();
            if (outcome instanceof Outcome.RetryAfter || outcome instanceof Outcome.Reject) {
                c.rollback();
                return outcome;
            }
            if (outcome instanceof Outcome.Applied) {
                writeFollowUps(c, invocation);
            }
            if (invocation.abandoned()) {
                abandoned = true;
                throw new EventsyncException("invocation of event " + event.getId() + " subject " + event.getSubject()
                        + " was abandoned; its transaction is not committed (the event is retried)");
            }
            if (losesTransactionSilently()) {
                requireInboxRows(c, subscription, List.of(event));
            }
            c.commit();
            inbox.committed(subscription, event);
            return outcome;
        } catch (Throwable t) {
            rollbackQuietly(c, event, t);
            PermanentException refused = refusedForGood(t, invocation);
            if (refused != null) {
                throw refused;
            }
            throw t;
        } finally {
            if (invocation.abandoned()) {
                discard(c, event);
            }
            closeQuietly(c, event, abandoned);
        }
    }

    /**
     * Where the database may have rolled the transaction back under a handler that caught the error and
     * went on (a deadlock on MariaDB or H2): the inbox rows this transaction inserted must still be there,
     * or it is not committed (what the handlers wrote after it would be committed without them, and the
     * events acknowledged without their inbox rows). Then it throws, so the events are tried again.
     */
    private void requireInboxRows(Connection c, String subscription, List<Envelope> recorded) throws SQLException {
        if (recorded.isEmpty()) {
            return;
        }
        int present = inbox.countPresent(c, subscription, recorded);
        if (present != recorded.size()) {
            throw new EventsyncException(recorded.size() - present + " of the " + recorded.size() + " inbox row(s) this"
                    + " transaction inserted in subscription " + subscription + " are gone before its commit (the"
                    + " database rolled the transaction back under a handler that went on, e.g. after catching a"
                    + " deadlock); it is not committed and its events are tried again");
        }
    }

    /** MariaDB and H2 (known once the inbox resolved its tables, which every apply does first). */
    private boolean losesTransactionSilently() {
        Dialect dialect = inbox.dialectIfKnown();
        return dialect != null && dialect.losesTransactionSilently();
    }

    /** Batches when it checks parked keys itself (a dead-letter store is configured). */
    @Override
    public boolean batches() {
        return deadLetters != null;
    }

    /**
     * A batch in one transaction: the inbox rows inserted together (those already there are skipped
     * duplicates; on PostgreSQL one statement), one query checks that none of their keys is parked, the
     * handlers run one after another on the bound connection (on PostgreSQL the copy tables' guarded updates
     * are held and sent as one JDBC batch per statement, before anything else uses the connection and at the
     * end: see {@link CopyWrites}), the follow-ups of all of them
     * go to the outbox in one append, one commit. Anything else than every handler returning applied or
     * skipped rolls the whole transaction back and throws (see {@link ApplyScope#applyAll}); so does
     * the abandonment of any of the invocations, whose abort hook aborts the shared connection.
     */
    @Override
    public List<Outcome> applyAll(List<? extends Invocation> invocations) throws Exception {
        if (invocations.isEmpty()) {
            return List.of();
        }
        Invocation first = invocations.get(0);
        String subscription = first.subscription();
        Connection c = connect(first.envelope(), subscription);
        boolean abandoned = false;
        try {
            for (Invocation invocation : invocations) {
                invocation.onAbort(() -> abort(c, invocation));
            }
            c.setAutoCommit(false);
            List<Envelope> events = new ArrayList<>(invocations.size());
            for (Invocation invocation : invocations) {
                events.add(invocation.envelope());
            }
            boolean[] fresh = inbox.recordAll(c, subscription, events);
            List<String> keys = new ArrayList<>(invocations.size());
            for (int i = 0; i < fresh.length; i++) {
                if (fresh[i] && !invocations.get(i).replaying()) {
                    keys.add(invocations.get(i).key());
                }
            }
            if (deadLetters.anyParked(c, subscription, keys)) {
                throw new EventsyncException("a key of a batch of " + keys.size() + " events is parked on subscription "
                        + subscription + "; the batch is rolled back and its events are applied one at a time");
            }
            Outcome[] outcomes = new Outcome[invocations.size()];
            List<List<Envelope>> emittedBy = new ArrayList<>(outcomes.length);
            // PostgreSQL: the copy tables' updates are held and sent together (see CopyWrites); the handlers
            // get a view of the connection that sends them before it does anything else.
            CopyWrites copyWrites = Dialect.of(c).batchesCopyWrites() ? new CopyWrites(c, outcomes) : null;
            Connection bound = copyWrites != null ? copyWrites.view() : c;
            for (int i = 0; i < outcomes.length; i++) {
                Invocation invocation = invocations.get(i);
                if (!fresh[i]) {
                    outcomes[i] = Outcome.skipped("duplicate: event " + invocation.envelope().getId()
                            + " was already applied in subscription " + subscription);
                    emittedBy.add(List.of());
                    continue;
                }
                invocation.bind(Connection.class, bound);
                if (copyWrites != null) {
                    invocation.bind(CopyWrites.class, copyWrites);
                    copyWrites.current(i);
                }
                Outcome outcome = invocation.proceed();
                if (!(outcome instanceof Outcome.Applied) && !(outcome instanceof Outcome.Skipped)) {
                    throw new EventsyncException("event " + invocation.envelope().getId() + " of a batch returned "
                            + outcome + "; the batch is rolled back and its events are applied one at a time");
                }
                emittedBy.add(invocation.emitted());
                if (outcomes[i] == null) { // a held update that changed no row may have decided it already
                    outcomes[i] = outcome;
                }
            }
            if (copyWrites != null) {
                copyWrites.flush(); // the copy tables' updates, one JDBC batch per table
            }
            // Follow-ups only of events that were applied (a held update may have turned out stale).
            List<Envelope> emitted = new ArrayList<>();
            for (int i = 0; i < outcomes.length; i++) {
                if (outcomes[i] instanceof Outcome.Applied) {
                    emitted.addAll(emittedBy.get(i));
                }
            }
            if (!emitted.isEmpty()) {
                if (followUps == null) {
                    throw new PermanentException("a handler of a batch emitted follow-up events but no outbox is"
                            + " configured on the JdbcApplyScope; set JdbcApplyScope.builder(...).outbox(outbox)");
                }
                followUps.append(c, emitted);
            }
            for (Invocation invocation : invocations) {
                if (invocation.abandoned()) {
                    abandoned = true;
                    throw new EventsyncException("invocation of event " + invocation.envelope().getId()
                            + " was abandoned; its batch's transaction is not committed (its events are retried)");
                }
            }
            if (losesTransactionSilently()) {
                List<Envelope> recorded = new ArrayList<>(fresh.length);
                for (int i = 0; i < fresh.length; i++) {
                    if (fresh[i]) {
                        recorded.add(events.get(i));
                    }
                }
                requireInboxRows(c, subscription, recorded);
            }
            c.commit();
            for (int i = 0; i < fresh.length; i++) {
                if (fresh[i]) {
                    inbox.committed(subscription, events.get(i));
                } else {
                    duplicates(subscription).increment();
                }
            }
            return Arrays.asList(outcomes);
        } catch (Throwable t) {
            rollbackQuietly(c, first.envelope(), t);
            throw t;
        } finally {
            if (invocations.stream().anyMatch(Invocation::abandoned)) {
                discard(c, first.envelope());
            }
            closeQuietly(c, first.envelope(), abandoned);
        }
    }

    /**
     * A database error that no retry can fix (a value too long for its column, U+0000 bound for a
     * PostgreSQL text column, a NOT NULL or unique violation: see {@link SqlErrors}), thrown by the
     * handler, the inbox insert, the follow-ups or the commit, becomes a {@link PermanentException}
     * carrying the database's reason, so the dispatcher dead-letters the event at its first attempt
     * instead of retrying it to exhaustion. Null for anything else, which is rethrown as it is.
     */
    private PermanentException refusedForGood(Throwable t, Invocation invocation) {
        if (t instanceof PermanentException || invocation.abandoned()) {
            return null;
        }
        SQLException sql = SqlErrors.find(t).orElse(null);
        if (sql == null) {
            return null;
        }
        Dialect dialect = inbox.dialectIfKnown();
        SqlErrors.Kind kind = dialect != null ? dialect.classify(sql) : SqlErrors.classify(null, sql);
        if (kind != SqlErrors.Kind.PERMANENT) {
            return null;
        }
        Envelope event = invocation.envelope();
        return new PermanentException("the database refused event " + event.getId() + " subject " + event.getSubject()
                + " of subscription " + invocation.subscription() + " for a reason a retry cannot fix ("
                + SqlErrors.describe(sql) + "); correct the event's data or the copy table, then replay the dead letter", t);
    }

    /**
     * A pool reports "connection not available" and keeps the driver's reason (wrong password, unknown
     * host, server down) in the cause; the message carries that reason so the log line says what to fix.
     * Transient: the dispatcher retries with backoff, so nothing is lost while the database is away.
     */
    private Connection connect(Envelope event, String subscription) {
        try {
            return dataSource.getConnection();
        } catch (SQLException e) {
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            String reason = root == e ? "" : " (cause: " + root.getMessage() + ")";
            throw new EventsyncException("cannot connect to the database for applying event " + event.getId()
                    + " subject " + event.getSubject() + " of subscription " + subscription + " (SQLState "
                    + e.getSQLState() + "): " + e.getMessage() + reason
                    + "; check that the server is running and reachable and that the credentials are right", e);
        }
    }

    private void writeFollowUps(Connection c, Invocation invocation) throws SQLException {
        List<Envelope> emitted = invocation.emitted();
        if (emitted.isEmpty()) {
            return;
        }
        if (followUps == null) {
            throw new io.eventsync.PermanentException("handler emitted " + emitted.size() + " follow-up event(s) for event "
                    + invocation.envelope().getId() + " but no outbox is configured on the JdbcApplyScope;"
                    + " set JdbcApplyScope.builder(...).outbox(outbox)");
        }
        followUps.append(c, emitted);
    }

    /**
     * Makes sure nothing the abandoned handler does can commit. {@link Connection#abort} closes the
     * socket on PostgreSQL and MariaDB (the server rolls back). H2's embedded connection ignores abort,
     * so the physical connection is also closed (H2 rolls back on close), after which every call the
     * zombie makes on it fails.
     *
     * <p>Never close the pool's proxy from here: a pool resets auto-commit when a connection comes back,
     * and on H2 that reset would commit whatever the zombie wrote after a rollback. With HikariCP the
     * connection is evicted (closed now, never handed out again); otherwise the physical connection
     * is closed directly. Runs on the abort executor: a close may wait for a statement the zombie runs.
     */
    private void abort(Connection c, Invocation invocation) {
        Envelope event = invocation.envelope();
        log.warn("aborting the apply connection of abandoned invocation: event {} subject {} subscription {}",
                event.getId(), event.getSubject(), invocation.subscription());
        try {
            c.abort(aborter);
        } catch (SQLException | RuntimeException e) {
            log.debug("abort of the apply connection failed for event {} subject {}: {}",
                    event.getId(), event.getSubject(), e.toString());
        }
        aborter.execute(() -> {
            try {
                if (!Pools.evict(dataSource, c) && !c.isClosed()) {
                    c.unwrap(Connection.class).close();
                }
            } catch (SQLException | RuntimeException e) {
                log.debug("closing the aborted connection failed for event {} subject {}: {}",
                        event.getId(), event.getSubject(), e.toString());
            }
        });
    }

    /**
     * The abandoned invocation's thread is done with the connection its abort hook aborted: evict it from
     * the pool now, before the close below hands it back, so that no later apply borrows the dead
     * connection (the abort hook's eviction runs on another thread and may come later).
     */
    private void discard(Connection c, Envelope event) {
        try {
            if (!Pools.evict(dataSource, c) && !c.isClosed()) {
                c.unwrap(Connection.class).close();
            }
        } catch (SQLException | RuntimeException e) {
            log.debug("discarding the aborted connection failed for event {} subject {}: {}",
                    event.getId(), event.getSubject(), e.toString());
        }
    }

    private static void rollbackQuietly(Connection c, Envelope event, Throwable cause) {
        try {
            if (!c.isClosed()) {
                c.rollback();
            }
        } catch (SQLException | RuntimeException e) {
            // The connection is broken or aborted; the server rolls the transaction back on its own.
            cause.addSuppressed(e);
            log.debug("rollback failed for event {} subject {}: {}", event.getId(), event.getSubject(), e.toString());
        }
    }

    private static void closeQuietly(Connection c, Envelope event, boolean abandoned) {
        try {
            c.close();
        } catch (SQLException | RuntimeException e) {
            log.debug("closing the apply connection failed for event {} subject {} (abandoned={}): {}",
                    event.getId(), event.getSubject(), abandoned, e.toString());
        }
    }

    private Counter duplicates(String subscription) {
        return duplicates.computeIfAbsent(subscription, s -> Counter.builder("eventsync.inbox.duplicates")
                .description("events delivered again after they were applied; skipped by the inbox")
                .tag("subscription", s)
                .register(meters));
    }

    @Override
    public void close() {
        aborter.shutdown();
        try {
            if (!aborter.awaitTermination(5, TimeUnit.SECONDS)) {
                aborter.shutdownNow();
            }
        } catch (InterruptedException e) {
            aborter.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    public static final class Builder {
        private final Inbox inbox;
        private FollowUps followUps;
        private JdbcDeadLetters deadLetters;
        private MeterRegistry meters = Metrics.globalRegistry; // as every eventsync component

        private Builder(Inbox inbox) {
            this.inbox = Objects.requireNonNull(inbox, "inbox");
        }

        /** Emitted follow-up events go to this service's own outbox, in the apply transaction. */
        public Builder outbox(Outbox outbox) {
            Objects.requireNonNull(outbox, "outbox");
            this.followUps = (c, events) -> outbox.append(c, events.toArray(new Envelope[0]));
            return this;
        }

        /** Where emitted follow-up events go, when not to an {@link Outbox} (see {@link #outbox}). */
        public Builder followUps(FollowUps followUps) {
            this.followUps = followUps;
            return this;
        }

        /**
         * The dispatcher's dead-letter store, when it is in the copy's database (the usual setup): each
         * apply transaction then checks, in one query, that the event's key is not parked by any
         * instance, and the dispatcher asks the store nothing before an attempt. Without it the
         * dispatcher asks the store itself before each event.
         */
        public Builder deadLetters(JdbcDeadLetters deadLetters) {
            Objects.requireNonNull(deadLetters, "deadLetters");
            if (deadLetters.dataSource() != inbox.dataSource()) {
                throw new ConfigException("the dead-letter store given to JdbcApplyScope must use the"
                        + " same DataSource as its inbox, so parked keys are checked inside the apply transaction");
            }
            this.deadLetters = deadLetters;
            return this;
        }

        public Builder meterRegistry(MeterRegistry meters) {
            this.meters = Objects.requireNonNull(meters, "meterRegistry");
            return this;
        }

        public JdbcApplyScope build() {
            return new JdbcApplyScope(this);
        }
    }
}
