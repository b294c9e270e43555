package io.eventsync.kafka.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.eventsync.ConfigException;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClientSettingsTest {

    @Test
    void propertiesOfTheProducerConsumerAndAdminClientAreAccepted() {
        assertThatCode(() -> {
            ClientSettings.check("linger.ms", "5");
            ClientSettings.check("max.poll.records", "200");
            ClientSettings.check("security.protocol", "SASL_SSL");
            ClientSettings.check("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required;");
            ClientSettings.check("ssl.truststore.location", "/etc/kafka/truststore.jks");
            ClientSettings.check("default.api.timeout.ms", "30000");
            ClientSettings.check("config.providers.file.class", "org.apache.kafka.common.config.provider.FileConfigProvider");
        }).doesNotThrowAnyException();
    }

    @Test
    void anUnknownPropertyIsRefusedNamingTheClosestKnownOne() {
        assertThatThrownBy(() -> ClientSettings.check("lingr.ms", "5"))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("clientProperty lingr.ms is not a Kafka client property (did you mean linger.ms?)");
        assertThatThrownBy(() -> ClientSettings.check("completely.made.up", "x"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("completely.made.up").hasMessageNotContaining("did you mean");
    }

    @Test
    void aValueThatDoesNotParseIsRefusedNamingPropertyValueAndType() {
        assertThatThrownBy(() -> ClientSettings.check("linger.ms", "soon"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("linger.ms").hasMessageContaining("soon").hasMessageContaining("long");
        assertThatThrownBy(() -> ClientSettings.check("security.protocol", "TLS"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("security.protocol").hasMessageContaining("TLS").hasMessageContaining("SASL_SSL");
    }

    @Test
    void aRefusedSecretIsNamedWithoutItsValue() {
        assertThatThrownBy(() -> ClientSettings.check("key.serializer", "com.example.S3cr3tSerializer"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("key.serializer").hasMessageContaining("set by eventsync")
                .hasMessageContaining("[hidden]").hasMessageNotContaining("S3cr3t");
    }

    @Test
    void secretPropertyValuesAreHidden() {
        assertThat(ClientSettings.isSecret("sasl.jaas.config")).isTrue();
        assertThat(ClientSettings.isSecret("ssl.keystore.password")).isTrue();
        assertThat(ClientSettings.isSecret("ssl.keystore.key")).isTrue();
        assertThat(ClientSettings.isSecret("sasl.oauthbearer.client.credentials.client.secret")).isTrue();
        assertThat(ClientSettings.isSecret("security.protocol")).isFalse();
        assertThat(ClientSettings.isSecret("linger.ms")).isFalse();
        assertThat(ClientSettings.describe(Map.of("ssl.key.password", "p4ss", "linger.ms", "5")))
                .isEqualTo("{linger.ms=5, ssl.key.password=[hidden]}");
    }
}
