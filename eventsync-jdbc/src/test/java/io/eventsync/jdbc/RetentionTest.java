package io.eventsync.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.eventsync.ConfigException;
import io.eventsync.jdbc.test.AccountChanged;
import java.time.Duration;
import java.util.List;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;

/** Retention settings are checked when they are built, with messages that name the setting and value. */
class RetentionTest {
    private static final JdbcDataSource NOWHERE = new JdbcDataSource();

    @Test
    void windowsDefaultToSevenDays() {
        assertThat(Inbox.builder(NOWHERE).build().dedupWindow()).isEqualTo(Duration.ofDays(7));
        assertThat(Accounts.copyTable().tombstoneWindow()).isEqualTo(Duration.ofDays(7));
    }

    @Test
    void aWindowThatIsNotPositiveIsRefused() {
        assertThatThrownBy(() -> Inbox.builder(NOWHERE).dedupWindow(Duration.ZERO).build())
                .isInstanceOf(ConfigException.class).hasMessageContaining("dedupWindow must be positive")
                .hasMessageContaining("PT0S");
        assertThatThrownBy(() -> CopyTable.builder(AccountChanged.getDescriptor(), "accounts_copy")
                .keyFromSubject("account_id").tombstoneWindow(Duration.ofHours(-1)).build())
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("tombstoneWindow of copy table accounts_copy must be positive")
                .hasMessageContaining("PT-1H");
    }

    @Test
    void retentionNeedsSomethingToPurgeAndAPositiveInterval() {
        Inbox inbox = Inbox.builder(NOWHERE).build();
        assertThatThrownBy(() -> Retention.builder("copy").build())
                .isInstanceOf(ConfigException.class).hasMessageContaining("nothing to purge");
        assertThatThrownBy(() -> Retention.builder("copy").inbox(inbox).every(Duration.ZERO).build())
                .isInstanceOf(ConfigException.class).hasMessageContaining("every").hasMessageContaining("PT0S");
        assertThatThrownBy(() -> Retention.builder("no spaces").inbox(inbox).build())
                .isInstanceOf(ConfigException.class).hasMessageContaining("but was: no spaces");
        assertThat(Retention.builder("copy").tombstones(NOWHERE, List.of(Accounts.copyTable())).build()).isNotNull();
    }
}
