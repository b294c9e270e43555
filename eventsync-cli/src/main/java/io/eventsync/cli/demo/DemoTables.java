package io.eventsync.cli.demo;

import io.eventsync.verify.TableProjection;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The demo's business tables. {@code orders} is the source of truth; {@code billing_orders} and
 * {@code shipping_orders} are copies that keep only the columns their service needs. The DDL is
 * plain enough for H2, PostgreSQL and MariaDB alike.
 */
final class DemoTables {
    private DemoTables() {}

    static final String ORDERS = "CREATE TABLE IF NOT EXISTS orders ("
            + " order_id VARCHAR(40) NOT NULL PRIMARY KEY,"
            + " customer_id VARCHAR(40) NOT NULL,"
            + " amount_cents BIGINT NOT NULL,"
            + " currency VARCHAR(3) NOT NULL,"
            + " shipping_address VARCHAR(200) NOT NULL,"
            + " status VARCHAR(16) NOT NULL,"
            + " payment_id VARCHAR(40),"
            + " carrier VARCHAR(40),"
            + " tracking_number VARCHAR(60),"
            + " cancel_reason VARCHAR(200),"
            + " version BIGINT NOT NULL)";

    static final String BILLING = "CREATE TABLE IF NOT EXISTS billing_orders ("
            + " order_id VARCHAR(40) NOT NULL PRIMARY KEY,"
            + " customer_id VARCHAR(40) NOT NULL,"
            + " amount_cents BIGINT NOT NULL,"
            + " currency VARCHAR(3) NOT NULL,"
            + " status VARCHAR(16) NOT NULL,"
            + " payment_id VARCHAR(40),"
            + " version BIGINT NOT NULL)";

    static final String SHIPPING = "CREATE TABLE IF NOT EXISTS shipping_orders ("
            + " order_id VARCHAR(40) NOT NULL PRIMARY KEY,"
            + " status VARCHAR(16) NOT NULL,"
            + " shipping_address VARCHAR(200) NOT NULL,"
            + " carrier VARCHAR(40),"
            + " tracking_number VARCHAR(60),"
            + " version BIGINT NOT NULL)";

    /** What billing must equal: these source columns, paired with the same-named copy columns. */
    static final TableProjection BILLING_SOURCE = TableProjection.of("orders", "order_id",
            "customer_id", "amount_cents", "currency", "status", "payment_id", "version");
    static final TableProjection BILLING_COPY = TableProjection.of("billing_orders", "order_id",
            "customer_id", "amount_cents", "currency", "status", "payment_id", "version");
    static final TableProjection SHIPPING_SOURCE = TableProjection.of("orders", "order_id",
            "status", "shipping_address", "carrier", "tracking_number", "version");
    static final TableProjection SHIPPING_COPY = TableProjection.of("shipping_orders", "order_id",
            "status", "shipping_address", "carrier", "tracking_number", "version");

    static void create(Connection connection, String ddl) throws SQLException {
        try (Statement st = connection.createStatement()) {
            st.execute(ddl);
        }
    }
}
