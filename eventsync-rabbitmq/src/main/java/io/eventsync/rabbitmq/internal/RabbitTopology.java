package io.eventsync.rabbitmq.internal;

import io.eventsync.ConfigException;
import io.eventsync.EventsyncException;
import io.eventsync.rabbitmq.RabbitTransport;
import io.eventsync.transport.SubscriptionSpec;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
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

    private final Connection connection;
    private final RabbitTransport.Settings settings;

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
     * Moves events parked while no group was bound back through the topic exchange, in their order,
     * now that at least one group is bound. Only what was parked at the start is moved, so an event
     * that still finds no queue (partitions disagree) cannot loop. Each batch is confirmed before the
     * parked copies are acked: a crash in between duplicates, never loses.
     */
    public void moveUnrouted(String topic) {
        String exchange = exchange(topic);
        String unrouted = unrouted(topic);
        declare("move of parked events of " + exchange, ch -> {
            long parked = ch.queueDeclarePassive(unrouted).getMessageCount();
            if (parked == 0) {
                return;
            }
            ch.confirmSelect();
            long moved = 0;
            long lastTag = 0;
            while (moved < parked) {
                GetResponse response = ch.basicGet(unrouted, false);
                if (response == null) {
                    break;
                }
                ch.basicPublish(exchange, response.getEnvelope().getRoutingKey(), false, response.getProps(),
                        response.getBody());
                lastTag = response.getEnvelope().getDeliveryTag();
                moved++;
                if (moved % MOVE_BATCH == 0) {
                    confirmThenAck(ch, lastTag);
                }
            }
            confirmThenAck(ch, lastTag);
            log.info("Moved {} events published before any group existed to {}", moved, exchange);
        });
    }

    private void confirmThenAck(Channel ch, long lastTag) throws IOException, InterruptedException, TimeoutException {
        if (lastTag > 0) {
            ch.waitForConfirmsOrDie(settings.publishTimeout().toMillis());
            ch.basicAck(lastTag, true);
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
