package io.eventsync.http.internal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Bearer tokens to client names. Tokens are kept only as SHA-256 digests and looked up by digest, so
 * neither a heap dump nor response timing reveals a token's prefix. Tokens are never logged.
 */
public final class ClientTokens {
    private final Map<String, String> clientByDigest = new HashMap<>();

    public ClientTokens(Map<String, String> clientByToken) {
        clientByToken.forEach((token, client) -> clientByDigest.put(digest(token), client));
    }

    /** The client that owns the {@code Authorization} header's bearer token, if any. */
    public Optional<String> authenticate(String authorizationHeader) {
        if (authorizationHeader == null || !authorizationHeader.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return Optional.empty();
        }
        return Optional.ofNullable(clientByDigest.get(digest(authorizationHeader.substring(7).trim())));
    }

    private static String digest(String token) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
            return java.util.HexFormat.of().formatHex(d);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every JDK", e);
        }
    }
}
