package io.eventsync.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.eventsync.ConfigException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

class EventsyncSchemaTest {

    @ParameterizedTest
    @EnumSource(TestDatabase.Kind.class)
    void schemaInstallsTwiceAndEveryTableIsUsable(TestDatabase.Kind kind) {
        try (TestDatabase db = TestDatabase.create(kind)) {
            EventsyncSchema.install(db.dataSource(), db.names());
            for (String table : new String[] {"outbox", "lease", "log", "log_head", "log_group", "offsets", "inbox", "dead_letters", "outbox_dead_letters"}) {
                assertThat(db.count(table)).as(table).isZero();
            }
        }
    }

    @Test
    void identifiersFromConfigurationAreValidated() {
        assertThatThrownBy(() -> SchemaNames.of("x\"; DROP TABLE y; --"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("schema");
        assertThatThrownBy(() -> new SchemaNames("ok", "bad-prefix"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("prefix").hasMessageContaining("bad-prefix");
    }

    @Test
    void ddlIsRenderedPerDialectWithQuotedNames() {
        assertThat(EventsyncSchema.ddl("mariadb", SchemaNames.of("shop")))
                .anyMatch(s -> s.contains("`shop`.`eventsync_outbox`"));
        assertThat(EventsyncSchema.ddl("postgresql", new SchemaNames("shop", "es_")))
                .anyMatch(s -> s.contains("\"shop\".\"es_outbox\""))
                .noneMatch(s -> s.contains("${"));
    }

    @Test
    void theNotifyFunctionIsOneStatementOnPostgresAndAbsentWhereThereIsNoNotify() {
        assertThat(EventsyncSchema.ddl("postgresql", SchemaNames.of("shop")))
                .filteredOn(s -> s.contains("FUNCTION"))
                .singleElement().satisfies(s -> assertThat(s)
                        .startsWith("CREATE OR REPLACE FUNCTION \"shop\".\"eventsync_notify\"(source TEXT)")
                        .contains("PERFORM pg_notify(found_channel, '');").endsWith("$$"));
        assertThat(EventsyncSchema.ddl("mariadb", SchemaNames.of("shop"))).noneMatch(s -> s.contains("notify"));
        assertThat(EventsyncSchema.ddl("h2", SchemaNames.of("shop"))).noneMatch(s -> s.contains("notify"));
    }
}
