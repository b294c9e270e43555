package io.eventsync.http.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class MediaTypeTest {
    @Test
    void clientsPreferenceByQualityDecides() {
        assertThat(MediaType.negotiate("application/x-protobuf")).isEqualTo(MediaType.PROTOBUF);
        assertThat(MediaType.negotiate("application/json;q=0.9, application/x-protobuf;q=0.1")).isEqualTo(MediaType.JSON);
        assertThat(MediaType.negotiate("text/html, application/protobuf;q=0.5")).isEqualTo(MediaType.PROTOBUF);
    }

    @Test
    void noAcceptOrAWildcardGetsReadableJson() {
        assertThat(MediaType.negotiate(null)).isEqualTo(MediaType.JSON);
        assertThat(MediaType.negotiate("*/*")).isEqualTo(MediaType.JSON);
    }

    @Test
    void onlyUnsupportedTypesAreNotAcceptable() {
        assertThatThrownBy(() -> MediaType.negotiate("text/html, application/xml"))
                .isInstanceOfSatisfying(HttpProblem.class, p -> assertThat(p.status()).isEqualTo(406))
                .hasMessageContaining("application/x-protobuf or application/json");
        assertThatThrownBy(() -> MediaType.negotiate("application/json;q=0"))
                .isInstanceOf(HttpProblem.class);
    }
}
