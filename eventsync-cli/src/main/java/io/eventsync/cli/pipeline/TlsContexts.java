package io.eventsync.cli.pipeline;

import io.eventsync.ConfigException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Builds the TLS context a broker client uses from a pipeline's {@code tls} block: the JVM's defaults,
 * or a trust store (the broker's CA) and a key store (the client's certificate, for mutual TLS). Errors
 * name the field and the file, never a password.
 */
final class TlsContexts {
    private TlsContexts() {}

    static SSLContext of(PipelineConfig.TlsSettings settings, String field) {
        try {
            if (settings.truststore().isEmpty() && settings.keystore().isEmpty()) {
                return SSLContext.getDefault();
            }
            TrustManagerFactory trust = null;
            if (settings.truststore().isPresent()) {
                trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                trust.init(load(settings.truststore().get(), settings.truststorePassword(), field + ".truststore"));
            }
            KeyManagerFactory keys = null;
            if (settings.keystore().isPresent()) {
                keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                char[] password = settings.keystorePassword().value().toCharArray();
                keys.init(load(settings.keystore().get(), settings.keystorePassword(), field + ".keystore"), password);
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys == null ? null : keys.getKeyManagers(), trust == null ? null : trust.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new ConfigException(field + ": cannot set up TLS: " + e.getMessage());
        }
    }

    private static KeyStore load(Path file, PipelineConfig.Secret password, String field) {
        String type = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".jks") ? "JKS" : "PKCS12";
        try (InputStream in = Files.newInputStream(file)) {
            KeyStore store = KeyStore.getInstance(type);
            store.load(in, password.value().isEmpty() ? null : password.value().toCharArray());
            return store;
        } catch (IOException | GeneralSecurityException e) {
            // A wrong password surfaces here as an IOException about integrity: say so without the password.
            throw new ConfigException(field + ": cannot read " + type + " store " + file + " (wrong password, or not a "
                    + type + " file?): " + e.getMessage());
        }
    }
}
