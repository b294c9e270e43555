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

    /** Writes {@code orders.desc} and {@code pipeline.yaml} into {@code dir}; returns the pipeline file. */
    static Path write(Path dir) throws IOException {
        Path absolute = dir.toAbsolutePath();
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
                    jdbc_url: jdbc:h2:file:%1$s/orders
                    user: sa
                consume:
                  topic: shop.orders
                  group: audit
                  create_tables: true
                  database:
                    jdbc_url: jdbc:h2:file:%1$s/audit
                    user: sa
                    password: ""                     # or ${AUDIT_DB_PASSWORD}: taken from the environment
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
                """.formatted(absolute));
        return file;
    }
}
