-- The example's own tables (spring.sql.init); eventsync's tables and the billing copy table
-- (eventsync.subscriptions.billing.copy-tables) are created by the starter.
CREATE TABLE IF NOT EXISTS orders (
    order_id     VARCHAR(64) PRIMARY KEY,
    customer_id  VARCHAR(64) NOT NULL,
    amount_cents BIGINT      NOT NULL,
    currency     CHAR(3)     NOT NULL,
    status       VARCHAR(16) NOT NULL,
    version      BIGINT      NOT NULL  -- the sequence of the order's latest event
);

CREATE TABLE IF NOT EXISTS billing_credit_notes (
    order_id     VARCHAR(64) PRIMARY KEY,
    amount_cents BIGINT      NOT NULL,
    reason       TEXT        NOT NULL
);
