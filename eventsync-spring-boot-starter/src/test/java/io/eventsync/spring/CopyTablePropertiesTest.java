package io.eventsync.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.eventsync.handler.EventContext;
import io.eventsync.test.v1.LineItem;
import io.eventsync.test.v1.OrderCancelled;
import io.eventsync.test.v1.OrderPlaced;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Copy tables declared in {@code eventsync.subscriptions.<name>.copy-tables} on PostgreSQL (own
 * schema): the starter builds and creates them and applies the subscription's events to them with no
 * handler code; a bad value stops the application at startup with an error naming the property.
 */
class CopyTablePropertiesTest {
    private static final String URL = "jdbc:postgresql://127.0.0.1:5432/test";
    private static final String SCHEMA = "copyprops_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    private static final String COPY = "eventsync.subscriptions.copies.copy-tables";

    private final ApplicationContextRunner app = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(DataSourceAutoConfiguration.class,
                    DataSourceTransactionManagerAutoConfiguration.class, EventsyncAutoConfiguration.class))
            .withPropertyValues(
                    "spring.datasource.url=" + URL + "?currentSchema=" + SCHEMA,
                    "spring.datasource.username=postgres",
                    "eventsync.source=shop",
                    "eventsync.subscriptions.copies.topic=shop",
                    "eventsync.subscriptions.copies.create-tables=true");

    /** Both copy tables of the happy path, so each failing case changes one value of a working setup. */
    private static final List<String> VALID = List.of(
            COPY + "[0].type=io.eventsync.test.v1.OrderPlaced",
            COPY + "[0].table=order_copies",
            COPY + "[0].key.column=order_id",
            COPY + "[0].key.field=order_id",
            COPY + "[0].columns=customer_email, cents=amount_cents, currency",
            COPY + "[1].type=io.eventsync.test.v1.OrderCancelled",
            COPY + "[1].table=cancellations",
            COPY + "[1].key.column=order_ref",
            COPY + "[1].key.from-subject=true",
            COPY + "[1].version-column=seq",
            COPY + "[1].columns=reason");

    @BeforeAll
    static void createSchema() throws Exception {
        try (Connection c = DriverManager.getConnection(URL, "postgres", "")) {
            c.createStatement().execute("CREATE SCHEMA " + SCHEMA);
        }
    }

    @AfterAll
    static void dropSchema() throws Exception {
        try (Connection c = DriverManager.getConnection(URL, "postgres", "")) {
            c.createStatement().execute("DROP SCHEMA " + SCHEMA + " CASCADE");
        }
    }

    @Test
    void copyTablesDeclaredInPropertiesAreCreatedAndFollowTheEvents() {
        app.withPropertyValues(VALID.toArray(String[]::new)).run(context -> {
            assertThat(context).hasNotFailed();
            TransactionalOutbox outbox = context.getBean(TransactionalOutbox.class);
            TransactionTemplate tx = new TransactionTemplate(context.getBean(PlatformTransactionManager.class));
            JdbcTemplate jdbc = new JdbcTemplate(context.getBean(javax.sql.DataSource.class));

            tx.executeWithoutResult(s -> outbox.append("o-1", 1, placed("o-1", 100)));
            tx.executeWithoutResult(s -> outbox.append("o-2", 1, placed("o-2", 200)));
            tx.executeWithoutResult(s -> outbox.append("o-1", 2, placed("o-1", 150)));
            tx.executeWithoutResult(s -> outbox.append("o-2", 2,
                    OrderCancelled.newBuilder().setOrderId("o-2").setReason("changed my mind").build()));

            await().atMost(Duration.ofSeconds(60)).until(() ->
                    jdbc.queryForObject("SELECT COUNT(*) FROM order_copies WHERE version = 2", Long.class) == 1
                            && jdbc.queryForObject("SELECT COUNT(*) FROM cancellations", Long.class) == 1);
            await().atMost(Duration.ofSeconds(60)).until(() ->
                    jdbc.queryForObject("SELECT COUNT(*) FROM order_copies", Long.class) == 2);

            // The declared columns only, named as mapped (cents <- amount_cents), under the version guard.
            assertThat(jdbc.queryForMap("SELECT * FROM order_copies WHERE order_id = 'o-1'")).containsOnly(
                    Map.entry("order_id", "o-1"), Map.entry("customer_email", "a@example.com"),
                    Map.entry("cents", 150L), Map.entry("currency", "EUR"), Map.entry("version", 2L));
            // The key from the event's subject, a custom version column.
            assertThat(jdbc.queryForMap("SELECT * FROM cancellations")).containsOnly(
                    Map.entry("order_ref", "o-2"), Map.entry("reason", "changed my mind"), Map.entry("seq", 2L));
            assertThat(jdbc.queryForObject("SELECT COUNT(*) FROM eventsync_dead_letters", Long.class)).isZero();
        });
    }

    static Stream<Arguments> invalidProperties() {
        return Stream.of(
                Arguments.of(COPY + "[0].type=io.eventsync.test.v1.NoSuchEvent",
                        COPY + "[0].type: no class io.eventsync.test.v1.NoSuchEvent on the classpath"),
                Arguments.of(COPY + "[0].type=eventsync.test.v1.OrderPlaced",
                        "not the protobuf type name"),
                Arguments.of(COPY + "[0].type=java.lang.String",
                        COPY + "[0].type: java.lang.String is not a generated protobuf message class"),
                Arguments.of(COPY + "[0].table=", COPY + "[0].table is required"),
                Arguments.of(COPY + "[0].table=order-copies",
                        COPY + "[0].table must be a plain SQL identifier"),
                Arguments.of(COPY + "[0].key.field=no_such_field",
                        COPY + "[0].key.field: field path 'no_such_field' of column order_id:"
                                + " eventsync.test.v1.OrderPlaced has no field 'no_such_field'"),
                Arguments.of(COPY + "[0].key.from-subject=true",
                        COPY + "[0].key: set either " + COPY + "[0].key.field"),
                Arguments.of(COPY + "[1].key.from-subject=false", "not neither"),
                Arguments.of(COPY + "[1].key.from-subject=maybe", COPY + "[1].key.from-subject"),
                Arguments.of(COPY + "[0].columns=customer_email, cents=items",
                        COPY + "[0].columns[1]: field path 'items' of column cents is a repeated/map field"),
                Arguments.of(COPY + "[0].columns=customer-email",
                        COPY + "[0].columns[0]: the column name 'customer-email' must be a plain SQL identifier"),
                Arguments.of(COPY + "[0].columns=currency, currency=customer_email",
                        COPY + "[0]: copy table order_copies declares column currency twice"),
                Arguments.of(COPY + "[1].type=io.eventsync.test.v1.OrderPlaced\n" + COPY + "[1].columns=currency",
                        COPY + "[1].type: payload type eventsync.test.v1.OrderPlaced is already copied by " + COPY + "[0]"),
                Arguments.of(COPY + "[1].version-column=1seq",
                        COPY + "[1].version-column must be a plain SQL identifier"));
    }

    @ParameterizedTest
    @MethodSource("invalidProperties")
    void aBadValueStopsStartupWithAnErrorNamingTheProperty(String bad, String expected) { // bad: lines of key=value
        List<String> properties = new ArrayList<>(VALID);
        properties.addAll(List.of(bad.split("\n"))); // a later value of the same key wins
        app.withPropertyValues(properties.toArray(String[]::new)).run(context -> {
            assertThat(context).hasFailed();
            assertThat(messages(context.getStartupFailure())).contains(expected);
        });
    }

    @Test
    void bootReportsTheBadPropertyAsTheReasonTheApplicationFailedToStart() {
        app.withPropertyValues(VALID.toArray(String[]::new)).withPropertyValues(COPY + "[0].table=order-copies")
                .run(context -> {
                    FailureAnalysis analysis = new ConfigFailureAnalyzer().analyze(context.getStartupFailure());
                    assertThat(analysis.getDescription()).isEqualTo("eventsync is misconfigured: " + COPY
                            + "[0].table must be a plain SQL identifier matching [A-Za-z_][A-Za-z0-9_]{0,47},"
                            + " but was 'order-copies'");
                    assertThat(analysis.getAction()).contains("Correct the eventsync.* property");
                });
    }

    @Test
    void theGeneratedConfigurationMetadataDocumentsTheCopyTableProperties() throws Exception {
        // The processor describes eventsync.subscriptions as a map of Subscription (it does not list the keys
        // inside map values); its description is what an IDE shows for eventsync.subscriptions.<name>.*.
        try (var in = getClass().getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
            assertThat(in).as("spring-configuration-metadata.json from spring-boot-configuration-processor").isNotNull();
            String metadata = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertThat(metadata).contains("\"name\": \"eventsync.subscriptions\"")
                    .contains("io.eventsync.spring.EventsyncProperties$Subscription")
                    .contains("copy-tables[i] (type, table, schema, key.column, key.field or key.from-subject,");
        }
    }

    @Test
    void aTypeBothCopiedAndHandledByAMethodIsRefused() {
        app.withPropertyValues(VALID.toArray(String[]::new)).withUserConfiguration(CancellationHandler.class)
                .run(context -> {
                    assertThat(context).hasFailed();
                    assertThat(messages(context.getStartupFailure())).contains(COPY + "[1].type:"
                            + " eventsync.test.v1.OrderCancelled is also handled by @EventsyncHandler");
                });
    }

    @Configuration(proxyBeanMethods = false)
    static class CancellationHandler {
        @Bean
        Object cancellations() {
            return new Object() {
                @EventsyncHandler(subscription = "copies")
                public void cancelled(OrderCancelled cancelled, EventContext ctx) {}
            };
        }
    }

    private static OrderPlaced placed(String id, long cents) {
        return OrderPlaced.newBuilder().setOrderId(id).setCustomerEmail("a@example.com").setAmountCents(cents)
                .setCurrency("EUR").addItems(LineItem.newBuilder().setSku("s").setQuantity(1)).build();
    }

    /** Every message of a failure's cause chain: Spring wraps the starter's error in bean creation errors. */
    private static String messages(Throwable failure) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = failure; t != null; t = t.getCause()) {
            sb.append(t.getMessage()).append('\n');
        }
        return sb.toString();
    }
}
