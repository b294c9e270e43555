package io.eventsync.rabbitmq.internal;

import io.eventsync.ConfigException;
import io.eventsync.EventsyncException;
import io.eventsync.rabbitmq.RabbitTransport;
import io.eventsync.transport.SubscriptionSpec;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.LongString;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Names and declares exchanges and queues. Every declaration is idempotent (same name, same
 * arguments), so publishers and subscribers of any process may declare in any order.
 *
 * <p>Queue names join topic and group with ':', a character neither may contain, so two different
 * (topic, group) pairs never share a queue.
 */
public final class RabbitTopology {
    private static final Logger log = LoggerFactory.getLogger(RabbitTopology.class);
    private static final int MAX_NAME = 255;
    private static final int MOVE_BATCH = 256;
    private static final String PARKED_SUFFIX = ":parked";
    /** Header of the message that ends a parked queue; see {@link #moveParked}. */
    static final String END_MARKER_HEADER = "eventsync-parked-end";
    private static final Duration LOCK_RETRY = Duration.ofMillis(50);

    private final Connection connection;
    private final RabbitTransport.Settings settings;
    private final Map<String, Object> moveLocks = new ConcurrentHashMap<>();

    public RabbitTopology(Connection connection, RabbitTransport.Settings settings) {
        this.connection = connection;
        this.settings = settings;
    }

    public String exchange(String topic) {
        return checked(settings.prefix() + topic);
    }

    public String unrouted(String topic) {
        return checked(settings.prefix() + topic + ":unrouted");
    }

    public List<String> queues(SubscriptionSpec spec) {
        List<String> queues = new ArrayList<>(settings.partitions());
        for (int n = 0; n < settings.partitions(); n++) {
            queues.add(checked(settings.prefix() + spec.topic() + ":" + spec.group() + ":" + n));
        }
        return queues;
    }

    /** The routing key (queue index) of a key; the same in every JVM because String.hashCode is specified. */
    public static String routingKey(String key, int partitions) {
        return Integer.toString(Math.floorMod(key.hashCode(), partitions));
    }

    /** Declares the topic's exchange and its alternate exchange with the parking queue. */
    public String ensureExchange(String topic) {
        String exchange = exchange(topic);
        String unrouted = unrouted(topic);
        declare("exchange " + exchange, ch -> {
            ch.exchangeDeclare(unrouted, "fanout", true, false, null);
            ch.queueDeclare(unrouted, true, false, false, Map.of("x-queue-type", queueType()));
            ch.queueBind(unrouted, unrouted, "");
            ch.exchangeDeclare(exchange, "direct", true, false, Map.of("alternate-exchange", unrouted));
        });
        return exchange;
    }

    /** Declares the group's queues, each with a single active consumer, bound by partition. */
    public List<String> ensureGroup(SubscriptionSpec spec) {
        String exchange = exchange(spec.topic());
        List<String> queues = queues(spec);
        Map<String, Object> arguments = Map.of("x-queue-type", queueType(), "x-single-active-consumer", true);
        declare("queues of group " + spec.group() + " on " + exchange, ch -> {
            for (int n = 0; n < queues.size(); n++) {
                ch.queueDeclare(queues.get(n), true, false, false, arguments);
                ch.queueBind(queues.get(n), exchange, Integer.toString(n));
            }
        });
        return queues;
    }

    /**
     * The queues that hand a group the events parked before it existed, one per partition: a consumer
     * reads its partition's parked queue, when there is one, up to its end marker before the group's
     * queue (see {@link #moveParked}).
     */
    public List<String> parkedQueues(SubscriptionSpec spec) {
        List<String> parked = new ArrayList<>(settings.partitions());
        for (String queue : queues(spec)) {
            parked.add(checked(queue + PARKED_SUFFIX));
        }
        return parked;
    }

    /** True when {@code message} is the end marker of a parked queue (it carries no event). */
    public static boolean isEndMarker(AMQP.BasicProperties properties) {
        Map<String, Object> headers = properties == null ? null : properties.getHeaders();
        return headers != null && Boolean.TRUE.equals(headers.get(END_MARKER_HEADER));
    }

    /**
     * Hands the events parked while no group was bound to {@code spec}'s group, in their order, ahead of
     * every event its queues received since they were bound.
     *
     * <p>Why not publish them through the exchange again: the group's queues are bound before this runs
     * (so that nothing more is parked), and a relay may be publishing all along, so the queues already
     * hold newer events; re-published events would land behind them. RabbitMQ cannot put a message at
     * the head of a queue, so the parked events go to a queue of their own per partition instead, which
     * the group's consumers read first (see {@code PartitionConsumer}):
     * <ol>
     *   <li>declare the parked queues (before taking anything from the parking queue, so that a consumer
     *       that finds the parking queue empty while this runs finds the parked queues);</li>
     *   <li>move every parked event to its partition's parked queue, each batch confirmed before the
     *       parked copies are acked (a crash in between duplicates, never loses);</li>
     *   <li>append an end marker to each parked queue: a consumer switches to the group's queue there.</li>
     * </ol>
     * One move per topic at a time (an exclusive queue is the lock between processes): two moves taking
     * turns on the parking queue would interleave its events. Each parked event reaches the first group
     * that subscribes after it was parked.
     */
    public void moveParked(SubscriptionSpec spec) {
        String unrouted = unrouted(spec.topic());
        if (readyCount(unrouted) == 0) {
            return; // the common case: nothing was published before the group's queues were bound
        }
        synchronized (moveLocks.computeIfAbsent(spec.topic(), t -> new Object())) {
            Channel lock = lock(spec.topic());
            try {
                for (int attempt = 1; ; attempt++) {
                    try {
                        moveOnce(spec);
                        return;
                    } catch (EventsyncException e) {
                        if (attempt == 3) {
                            throw e;
                        }
                        log.warn("Moving the parked events of {} to group {} failed (attempt {}); retrying: {}",
                                spec.topic(), spec.group(), attempt, e.getMessage());
                    }
                }
            } finally {
                release(spec.topic(), lock);
            }
        }
    }

    private void moveOnce(SubscriptionSpec spec) {
        String unrouted = unrouted(spec.topic());
        List<String> parked = parkedQueues(spec);
        Map<String, Object> arguments = Map.of("x-queue-type", "classic", "x-single-active-consumer", true);
        declare("move of parked events of " + exchange(spec.topic()) + " to group " + spec.group(), ch -> {
            if (ch.queueDeclarePassive(unrouted).getMessageCount() == 0) {
                return; // another process moved them while this one waited for the lock
            }
            // Classic: a parked queue is deleted once read, with if-empty, which quorum queues refuse.
            for (String queue : parked) {
                ch.queueDeclare(queue, true, false, false, arguments);
            }
            AtomicBoolean returned = new AtomicBoolean();
            ch.addReturnListener(r -> returned.set(true));
            ch.confirmSelect();
            long moved = 0;
            List<Long> tags = new ArrayList<>(MOVE_BATCH);
            while (true) {
                GetResponse response = ch.basicGet(unrouted, false);
                if (response == null) {
                    if (tags.isEmpty()) {
                        break;
                    }
                    // The next basic.get, after these acks, is also what makes a quorum queue settle them:
                    // RabbitMQ 3.10 returned acked basic.get messages to the queue when the channel closed
                    // right after the acks (27 of 60, in 2 runs of 15).
                    confirmThenAck(ch, tags, returned);
                    continue;
                }
                ch.basicPublish("", parked.get(partitionOf(response)), true, withoutMarker(response.getProps()),
                        response.getBody());
                tags.add(response.getEnvelope().getDeliveryTag());
                moved++;
                if (tags.size() == MOVE_BATCH) {
                    confirmThenAck(ch, tags, returned);
                }
            }
            AMQP.BasicProperties marker = new AMQP.BasicProperties.Builder().deliveryMode(2)
                    .headers(Map.of(END_MARKER_HEADER, true)).build();
            for (String queue : parked) {
                ch.basicPublish("", queue, true, marker, new byte[0]);
            }
            confirmThenAck(ch, tags, returned);
            log.info("Moved {} events published before any group existed to the parked queues of group {} on {}",
                    moved, spec.group(), exchange(spec.topic()));
        });
    }

    /** Anyone may publish to the exchange: a parked message that claims to be an end marker is moved as a plain one. */
    private static AMQP.BasicProperties withoutMarker(AMQP.BasicProperties properties) {
        if (!isEndMarker(properties)) {
            return properties;
        }
        Map<String, Object> headers = new java.util.HashMap<>(properties.getHeaders());
        headers.remove(END_MARKER_HEADER);
        return properties.builder().headers(headers).build();
    }

    /** The parked event's partition: from its key header when it has one, else from its routing key. */
    private int partitionOf(GetResponse response) {
        Map<String, Object> headers = response.getProps().getHeaders();
        Object key = headers == null ? null : headers.get(RabbitPublisher.KEY_HEADER);
        if (key instanceof String || key instanceof LongString) {
            return Integer.parseInt(routingKey(key.toString(), settings.partitions()));
        }
        try {
            return Math.floorMod(Integer.parseInt(response.getEnvelope().getRoutingKey()), settings.partitions());
        } catch (NumberFormatException e) {
            return 0; // not published by eventsync: any partition keeps the parking queue's order
        }
    }

    /** Acks the moved copies once their moves are confirmed. */
    private void confirmThenAck(Channel ch, List<Long> tags, AtomicBoolean returned)
            throws IOException, InterruptedException, TimeoutException {
        ch.waitForConfirmsOrDie(settings.publishTimeout().toMillis());
        if (returned.get()) {
            // A parked queue vanished (deleted by its reader) under the move: keep the events parked.
            throw new EventsyncException("a parked queue was deleted while events were moved into it");
        }
        if (!tags.isEmpty()) {
            ch.basicAck(tags.get(tags.size() - 1), true);
            tags.clear();
        }
    }

    /** Deletes a parked queue that was read to its end marker; false when more was moved in since. */
    public static boolean deleteIfEmpty(Connection connection, String parkedQueue) {
        try (Channel channel = connection.createChannel()) {
            channel.queueDelete(parkedQueue, false, true);
            return true;
        } catch (IOException e) {
            String message = String.valueOf(e.getCause() != null ? e.getCause().getMessage() : e.getMessage());
            if (message.contains("NOT_FOUND")) {
                return true; // another reader of the group deleted it
            }
            log.debug("Parked queue {} not deleted (more events were moved into it?): {}", parkedQueue, message);
            return false;
        } catch (TimeoutException | RuntimeException e) {
            log.debug("Deleting parked queue {} failed: {}", parkedQueue, e.getMessage());
            return false;
        }
    }

    /** True when {@code queue} exists. */
    public static boolean exists(Connection connection, String queue) {
        try (Channel channel = connection.createChannel()) {
            channel.queueDeclarePassive(queue);
            return true;
        } catch (IOException e) {
            String message = String.valueOf(e.getCause() != null ? e.getCause().getMessage() : e.getMessage());
            if (message.contains("NOT_FOUND")) {
                return false;
            }
            throw new EventsyncException("Cannot check whether queue " + queue + " exists: " + message, e);
        } catch (TimeoutException e) {
            throw new EventsyncException("Checking whether queue " + queue + " exists timed out", e);
        }
    }

    private long readyCount(String queue) {
        long[] count = new long[1];
        declare("parking queue " + queue, ch -> count[0] = ch.queueDeclarePassive(queue).getMessageCount());
        return count[0];
    }

    /**
     * Takes the topic's move lock: an exclusive queue, which the broker lets one connection hold and drops
     * with it. Another process holding it is waited for, up to three publish timeouts.
     */
    private Channel lock(String topic) {
        String name = lockName(topic);
        long deadline = System.nanoTime() + settings.publishTimeout().multipliedBy(3).toNanos();
        while (true) {
            Channel channel = null;
            try {
                channel = connection.createChannel();
                channel.queueDeclare(name, false, true, true, null);
                return channel;
            } catch (IOException | RuntimeException e) {
                closeQuietly(channel);
                if (System.nanoTime() > deadline) {
                    throw new EventsyncException("Another process has been moving the parked events of topic " + topic
                            + " for longer than " + settings.publishTimeout().multipliedBy(3) + " (it holds queue "
                            + name + "); subscribe again once it is done: " + e.getMessage(), e);
                }
                pause(LOCK_RETRY);
            }
        }
    }

    private void release(String topic, Channel lock) {
        try {
            lock.queueDelete(lockName(topic));
        } catch (IOException | RuntimeException e) {
            log.debug("Releasing the move lock of {} failed; it goes with the connection: {}", topic, e.getMessage());
        }
        closeQuietly(lock);
    }

    private String lockName(String topic) {
        return checked(settings.prefix() + topic + ":mover");
    }

    private static void pause(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EventsyncException("Interrupted while waiting for the move lock", e);
        }
    }

    private static void closeQuietly(Channel channel) {
        if (channel != null && channel.isOpen()) {
            try {
                channel.close();
            } catch (IOException | TimeoutException | RuntimeException e) {
                log.debug("Closing a channel failed: {}", e.getMessage());
            }
        }
    }

    private String queueType() {
        return settings.queueType().name().toLowerCase();
    }

    private static String checked(String name) {
        if (name.length() > MAX_NAME) {
            throw new ConfigException("RabbitMQ name is longer than " + MAX_NAME + " characters: " + name
                    + "; shorten the topic, group or prefix");
        }
        return name;
    }

    private interface Declaration {
        void run(Channel channel) throws IOException, InterruptedException, TimeoutException;
    }

    /** Runs declarations on a channel of their own: a refused declaration closes only that channel. */
    private void declare(String what, Declaration declaration) {
        try (Channel channel = connection.createChannel()) {
            declaration.run(channel);
        } catch (IOException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            String message = String.valueOf(cause.getMessage());
            if (message.contains("PRECONDITION_FAILED")) {
                throw new ConfigException("RabbitMQ refused the " + what + ": " + message
                        + " (it exists with other arguments: queue type, partitions or alternate exchange)", e);
            }
            throw new EventsyncException("Declaring the " + what + " failed: " + message, e);
        } catch (TimeoutException e) {
            throw new EventsyncException("Declaring the " + what + " timed out", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EventsyncException("Interrupted while declaring the " + what, e);
        } catch (RuntimeException e) {
            throw new EventsyncException("Declaring the " + what + " failed: " + e.getMessage(), e);
        }
    }
}
