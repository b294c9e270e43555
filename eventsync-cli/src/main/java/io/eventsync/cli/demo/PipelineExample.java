package io.eventsync.cli.demo;

import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import io.eventsync.cli.demo.proto.OrderPlaced;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Leaves a ready-to-run pipeline beside the embedded demo's databases: a fourth service, {@code audit},
 * built from the demo's event log with {@code eventsync run} and declared mappings only, no Java. It
 * shows how a new copy is bootstrapped by consuming the log from its start.
 */
final class PipelineExample {
    private PipelineExample() {}

    /**
     * Writes {@code orders.desc} and {@code pipeline.yaml} into {@code dir}; returns the pipeline file.
     * On a database server the log is in the orders schema and the audit copy gets a schema of its own.
     */
    static Path write(Path dir, DemoDatabases databases, Infrastructure infra) throws IOException {
        Path absolute = dir.toAbsolutePath();
        String user = infra.db() == null ? "sa" : infra.userOrDefault();
        // Never the password itself: the demo read it from an environment variable, and so does run.
        String password = infra.password() == null || infra.password().isEmpty() ? "\"\"" : "${EVENTSYNC_DB_PASSWORD}";
        Files.write(absolute.resolve("orders.desc"), FileDescriptorSet.newBuilder()
                .addFile(OrderPlaced.getDescriptor().getFile().toProto()).build().toByteArray());
        Path file = absolute.resolve("pipeline.yaml");
        Files.writeString(file, """
                # Written by `eventsync demo`: a new copy, "audit", built from the demo's event log by
                # declared mappings only (no Java code). Try:
                #   ./eventsync run --config %1$s/pipeline.yaml        (Ctrl-C stops it cleanly)
                #   ./eventsync status --config %1$s/pipeline.yaml
                name: demo-audit
                types:
                  descriptor_set: orders.desc        # protoc --include_imports --descriptor_set_out=orders.desc orders.proto
                transport:
                  kind: log                          # the embedded log, in the orders database
                  database:
                    jdbc_url: "%2$s"
                    user: %4$s
                    password: %5$s
                consume:
                  topic: shop.orders
                  group: audit
                  create_tables: true
                  database:
                    jdbc_url: "%3$s"
                    user: %4$s
                    password: %5$s                     # ${NAME}: taken from the environment
                  mappings:
                    - type: shop.orders.v1.OrderPlaced
                      table: audit_orders
                      key: { column: order_id, from_subject: true }
                      columns: { customer_id: customer_id, amount_cents: amount_cents, currency: currency }
                    - type: shop.orders.v1.OrderPaid
                      table: audit_payments
                      key: { column: order_id, from_subject: true }
                      columns: { payment_id: payment_id, amount_cents: amount_cents }
                    - type: shop.orders.v1.OrderShipped
                      table: audit_shipments
                      key: { column: order_id, from_subject: true }
                      columns: { carrier: carrier, tracking_number: tracking_number }
                    - type: shop.orders.v1.OrderCancelled
                      table: audit_cancellations
                      key: { column: order_id, from_subject: true }
                      columns: { reason: reason }
                """.formatted(absolute, databases.url("orders"), databases.url("audit"), user, password));
        return file;
    }
}
