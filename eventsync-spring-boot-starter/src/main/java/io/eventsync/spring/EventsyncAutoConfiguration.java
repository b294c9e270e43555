package io.eventsync.spring;

import io.eventsync.ConfigException;
import io.eventsync.jdbc.EmbeddedLog;
import io.eventsync.jdbc.EventsyncSchema;
import io.eventsync.jdbc.Outbox;
import io.eventsync.jdbc.Relay;
import io.eventsync.jdbc.SchemaNames;
import io.eventsync.transport.Transport;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import javax.sql.DataSource;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.core.io.ResourceLoader;

/**
 * eventsync for a Spring Boot application with a {@link DataSource}: the outbox joined to Spring
 * transactions ({@link TransactionalOutbox}), the relay, the subscriptions of
 * {@code eventsync.subscriptions} with their {@link EventsyncHandler} methods and declared copy tables
 * ({@link DeclaredCopyTables}), and Actuator health.
 * The transport is the embedded log in the same database unless the application defines a
 * {@link Transport} bean (Kafka, NATS, RabbitMQ, HTTP feed).
 */
@AutoConfiguration(afterName = {
        "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
        "org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration"})
@ConditionalOnBean(DataSource.class)
@ConditionalOnProperty(prefix = "eventsync", name = "enabled", havingValue = "true", matchIfMissing = true)
@EnableConfigurationProperties(EventsyncProperties.class)
public class EventsyncAutoConfiguration {

    /** Discovers {@link EventsyncHandler} methods; static so it sees every bean. */
    @Bean
    static HandlerMethods eventsyncHandlerMethods() {
        return new HandlerMethods();
    }

    @Bean
    @ConditionalOnMissingBean
    SchemaNames eventsyncSchemaNames(EventsyncProperties properties, DataSource dataSource) {
        String schema = properties.getSchema();
        SchemaNames names = schema == null || schema.isBlank() ? SchemaNames.defaults() : SchemaNames.of(schema);
        names = names.withPrefix(properties.getTablePrefix());
        if (properties.isInstallSchema()) {
            EventsyncSchema.install(dataSource, names);
        }
        return names;
    }

    @Bean
    @ConditionalOnMissingBean
    Outbox eventsyncOutbox(EventsyncProperties properties, Environment environment, SchemaNames names) {
        String source = properties.getSource();
        if (source == null || source.isBlank()) {
            source = environment.getProperty("spring.application.name");
        }
        if (source == null || source.isBlank()) {
            throw new ConfigException("eventsync.source (or spring.application.name) is required: the name of this"
                    + " service's outbox and of the topic its relay publishes to");
        }
        return Outbox.of(source, names);
    }

    @Bean
    @ConditionalOnMissingBean
    TransactionalOutbox eventsyncTransactionalOutbox(DataSource dataSource, Outbox outbox) {
        return new TransactionalOutbox(dataSource, outbox);
    }

    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean(Transport.class)
    EmbeddedLog eventsyncEmbeddedLog(DataSource dataSource, SchemaNames names) {
        return EmbeddedLog.builder().dataSource(dataSource).names(names).build();
    }

    @Bean
    @ConditionalOnProperty(prefix = "eventsync.relay", name = "enabled", havingValue = "true", matchIfMissing = true)
    EventsyncRelay eventsyncRelay(EventsyncProperties properties, DataSource dataSource, SchemaNames names,
                                  Outbox outbox, Transport transport) {
        String topic = properties.getRelay().getTopic();
        Relay relay = Relay.builder().dataSource(dataSource).names(names).source(outbox.source())
                .publisher(transport.publisher(topic == null || topic.isBlank() ? outbox.source() : topic))
                .leaseDuration(properties.getRelay().getLeaseDuration())
                .build();
        return new EventsyncRelay(relay);
    }

    /** The copy tables of {@code eventsync.subscriptions.<name>.copy-tables}, checked (and created if asked) at startup. */
    @Bean
    DeclaredCopyTables eventsyncCopyTables(EventsyncProperties properties, DataSource dataSource,
                                           ResourceLoader resourceLoader) {
        DeclaredCopyTables tables = DeclaredCopyTables.from(properties, resourceLoader.getClassLoader());
        tables.createTables(properties, dataSource);
        return tables;
    }

    @Bean
    EventsyncConsumers eventsyncConsumers(EventsyncProperties properties, DataSource dataSource, SchemaNames names,
                                          Transport transport, Outbox outbox, HandlerMethods handlers,
                                          DeclaredCopyTables copyTables, ObjectProvider<MeterRegistry> meters) {
        return new EventsyncConsumers(properties, dataSource, names, transport, outbox, handlers, copyTables,
                meters.getIfAvailable(SimpleMeterRegistry::new));
    }

    /** Actuator health, when spring-boot-health is on the classpath. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
    static class Health {
        @Bean
        @ConditionalOnMissingBean(name = "eventsyncHealthIndicator")
        EventsyncHealthIndicator eventsyncHealthIndicator(EventsyncConsumers consumers, EventsyncProperties properties) {
            return new EventsyncHealthIndicator(consumers, properties.getMaxFreshness());
        }
    }
}
