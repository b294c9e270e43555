package io.eventsync.example.spring;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * The orders service of the Spring Boot example, with the billing side that keeps a copy of its orders.
 *
 * <p>{@code orders} writes each order and its event in one {@code @Transactional} method through the
 * starter's {@code TransactionalOutbox}; the relay publishes the events to the embedded log (a table in
 * the same database, so no broker is needed). {@code billing} is the subscription
 * {@code eventsync.subscriptions.billing}: it applies {@code OrderPlaced} to the copy table declared in
 * {@code application.properties} and {@code OrderCancelled} through an {@code @EventsyncHandler} method, each
 * exactly once in its own apply transaction. In production billing is a service of its own with its own
 * database and a broker's transport bean; here both live in one application so that it runs on one PostgreSQL.
 */
@SpringBootApplication
public class OrdersApplication {

    public static void main(String[] args) {
        SpringApplication.run(OrdersApplication.class, args);
    }
}
